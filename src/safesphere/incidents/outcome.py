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
    @property
    def timezone(self) -> str | None: ...


@dataclass(frozen=True)
class ReportOutcome:
    """A report's own incident and the protocol record this report made; ``replayed`` when a retry
    returned the original result. A repeat grouped into its source's open incident names that incident
    (``grouped_into``) and what it did to it (``grouping``); the steps that ran did so for that incident."""

    incident: Incident
    actions: list[IncidentAction]
    commands: list[DeviceCommand]
    replayed: bool
    grouping: ReportGrouping | None = None

    @property
    def grouped_into(self) -> str | None:
        return self.incident.grouped_into

    @property
    def message(self) -> str:
        level = self.incident.threat_level
        if self.grouping is ReportGrouping.attached:
            return f"Threat incident {level} logged and grouped into open incident {self.grouped_into}"
        if self.grouping is ReportGrouping.escalated:
            return (
                f"Threat incident {level} logged and grouped into open incident {self.grouped_into}, "
                "which it escalated; actions executed"
            )
        return f"Threat incident {level} logged and actions executed"
