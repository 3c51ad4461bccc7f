"""What a threat report comes from and what it leads to: the reporting engine and the report's outcome."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol as Interface

from safesphere.devices.models import DeviceCommand
from safesphere.incidents.models import Incident, IncidentAction, ReportGrouping


class ReportingEngine(Interface):
    """The authenticated engine a report came from (``auth.access.EnginePrincipal`` is one)."""

    @property
    def key_id(self) -> int: ...
    @property
    def name(self) -> str: ...
    @property
    def owner_id(self) -> int | None: ...
    @property
    def latitude(self) -> float | None: ...
    @property
    def longitude(self) -> float | None: ...


@dataclass(frozen=True)
class ReportOutcome:
    """A stored incident and the protocol actions this report ran; ``replayed`` when a retry returned the
    original result. A repeat grouped into an open incident (``grouping``) returns that incident, the id
    the report came with is ``report_id``."""

    incident: Incident
    actions: list[IncidentAction]
    commands: list[DeviceCommand]
    replayed: bool
    report_id: str
    grouping: ReportGrouping | None = None
    report_level: str | None = None

    @property
    def message(self) -> str:
        level = self.report_level or self.incident.threat_level
        if self.grouping is ReportGrouping.attached:
            return (
                f"Threat incident {level} attached to open incident {self.incident.incident_id} "
                f"({self.incident.duplicate_count} repeated report(s))"
            )
        if self.grouping is ReportGrouping.escalated:
            return (
                f"Threat incident {level} escalated open incident {self.incident.incident_id} "
                "and actions executed"
            )
        return f"Threat incident {self.incident.threat_level} logged and actions executed"
