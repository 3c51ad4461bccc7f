"""Request and response bodies of the incident API, field for field as in the SafeSphere Backend API."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from safesphere.core.params import MAX_ID
from safesphere.devices.schemas import CommandOut
from safesphere.evidence.models import Evidence
from safesphere.evidence.schemas import EvidenceOut
from safesphere.incidents.ids import INCIDENT_ID_MAX_LENGTH, is_valid_incident_id
from safesphere.incidents.models import Incident, IncidentAction, IncidentAlert, LocationSource
from safesphere.incidents.protocol import ThreatLevel

MAX_PEOPLE_COUNT = 100_000
"""More people than any camera frame holds; larger values are engine bugs, not crowds."""
MAX_WEAPON_TYPES = 32
"""A frame lists a handful of detections; the cap bounds the row, repeats are allowed."""
MAX_LABEL_LENGTH = 64
"""A weapon label is a detector class name."""
MAX_SUMMARY_LENGTH = 4000
"""A few paragraphs of behaviour description; the whole telemetry has its own byte cap."""
MAX_SOURCE_ID_LENGTH = 100
"""A device or camera name."""
MAX_TELEMETRY_DEPTH = 32
"""Engine telemetry nests a handful of levels (frame -> detections -> box); deeper is an attack on the
parser, serializer and JSONB, not data."""
MAX_ACCURACY_M = 1_000_000.0
"""An accuracy worse than 1000 km says nothing about where the threat is."""


def storable_text(value: str) -> str:
    """``value`` if every database can store it: no NUL characters, no lone UTF-16 surrogates."""
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError("must be valid Unicode text (no lone surrogates)") from exc
    return value


def telemetry_value(value: dict[str, Any]) -> dict[str, Any]:
    """``value`` if every database stores it whole: bounded nesting, storable text, finite numbers."""
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        node, depth = pending.pop()
        if depth > MAX_TELEMETRY_DEPTH:
            raise ValueError(f"must not nest deeper than {MAX_TELEMETRY_DEPTH} levels")
        if isinstance(node, dict):
            for key, item in node.items():
                storable_text(key)
                pending.append((item, depth + 1))
        elif isinstance(node, list):
            pending.extend((item, depth + 1) for item in node)
        elif isinstance(node, str):
            storable_text(node)
        elif isinstance(node, float) and not math.isfinite(node):
            raise ValueError("must not contain NaN or Infinity")
    return value


def incident_id_value(value: str) -> str:
    if not is_valid_incident_id(value):
        raise ValueError(
            f"must be 1-{INCIDENT_ID_MAX_LENGTH} characters of letters, digits, '_', '.', '-', "
            "start with a letter or digit and contain no '..'"
        )
    return value


StorableText = Annotated[str, AfterValidator(storable_text)]
WeaponLabel = Annotated[str, Field(min_length=1, max_length=MAX_LABEL_LENGTH), AfterValidator(storable_text)]
IncidentId = Annotated[str, AfterValidator(incident_id_value)]


class ThreatReportIn(BaseModel):
    """A threat report from a detection engine. Types are strict: ``"0.8"`` is not a score."""

    model_config = ConfigDict(strict=True, extra="ignore")

    incident_id: IncidentId | None = Field(default=None, description="Made by the server when missing.")
    timestamp: datetime | None = Field(
        default=None,
        strict=False,
        description="When the threat was seen; a naive time is read in the zone of the key's fixed place, "
        "else the key's zone, else the default; more than a day ahead or before 2000: 422; missing: now.",
    )
    threat_level: ThreatLevel = Field(strict=False)
    threat_score: float = Field(ge=0, le=1, allow_inf_nan=False)
    people_count: int = Field(default=0, ge=0, le=MAX_PEOPLE_COUNT)
    weapon_detected: bool = False
    weapon_types: list[WeaponLabel] = Field(default_factory=list, max_length=MAX_WEAPON_TYPES)
    behavior_summary: StorableText = Field(default="", max_length=MAX_SUMMARY_LENGTH)
    is_critical: bool | None = Field(default=None, description="Defaults to threat_level == CRITICAL.")
    full_telemetry: Annotated[dict[str, Any], AfterValidator(telemetry_value)] = Field(
        default_factory=dict, description="Stored whole; size and nesting capped."
    )
    latitude: float | None = Field(default=None, ge=-90, le=90, strict=True, allow_inf_nan=False)
    longitude: float | None = Field(default=None, ge=-180, le=180, strict=True, allow_inf_nan=False)
    location_accuracy_m: float | None = Field(
        default=None, ge=0, le=MAX_ACCURACY_M, strict=True, allow_inf_nan=False
    )
    source_id: StorableText | None = Field(default=None, min_length=1, max_length=MAX_SOURCE_ID_LENGTH)
    grouped_into: IncidentId | None = Field(
        default=None,
        description="The open incident (reported with the same key) this report repeats; without it, "
        "repeats are found by source and the grouping window.",
    )

    @field_validator("timestamp")
    @classmethod
    def _finite_year(cls, value: datetime | None) -> datetime | None:
        if value is not None and not (1 < value.year < 9999):
            raise ValueError("must be a date between years 2 and 9998")
        return value


class ActionOut(BaseModel):
    """A protocol step as executed: the document's ``actions`` row."""

    model_config = ConfigDict(from_attributes=True)

    action_type: str
    description: str
    executed_at: datetime
    status: str
    result: str | None


class AlertOut(BaseModel):
    """A message the protocol sends: the document's ``alerts`` row (``pending`` until delivered)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    action_type: str
    alert_type: str
    recipient: str
    message: str
    sent_at: datetime | None
    status: str


class ThreatReportOut(BaseModel):
    success: bool = True
    incident_id: str
    message: str
    action_taken: str
    actions: list[ActionOut]
    commands: list[CommandOut] = Field(
        default_factory=list,
        description="Instructions to the reporting device (also at GET /devices/commands).",
    )
    report_id: str = Field(description="The same as incident_id: this report's own incident.")
    grouped: bool = Field(default=False, description="Whether this report was grouped into an open incident.")
    grouped_into: str | None = Field(
        default=None, description="The open incident of its source this report was grouped into."
    )
    grouping: Literal["attached", "escalated"] | None = Field(
        default=None,
        description="Set when grouped: 'attached' (counted, nobody paged again) or 'escalated' (it made the "
        "open incident worse and the steps not taken yet ran for it).",
    )


class LocationOut(BaseModel):
    latitude: float
    longitude: float
    accuracy_m: float | None
    source: str = Field(
        description="'engine_key' (a fixed camera's configured place), 'report', or 'owner_last_fix' (a "
        "report without coordinates placed at its key owner's latest fix)."
    )
    fix_age_s: float | None = Field(
        default=None, description="With 'owner_last_fix': how old that fix was when the report arrived."
    )


class IncidentSummary(BaseModel):
    """An incident in a list: enough to triage, without telemetry."""

    model_config = ConfigDict(from_attributes=True)

    incident_id: str
    timestamp: datetime
    threat_level: ThreatLevel
    threat_score: float
    people_count: int
    weapon_detected: bool
    is_critical: bool
    status: str
    action_taken: str | None
    latitude: float | None
    longitude: float | None
    source_id: str | None
    created_at: datetime
    duplicate_count: int = Field(description="Reports of its source grouped into it.")
    grouped_into: str | None = Field(
        default=None, description="The open incident this report was grouped into (status 'grouped')."
    )
    last_reported_at: datetime | None = Field(description="When its source last reported the threat.")
    updated_at: datetime = Field(
        description="Its last change: of two copies of an incident (a list page, a live event), the later "
        "updated_at is the newer state."
    )


class GroupedReportOut(BaseModel):
    """A report grouped into an incident, in that incident's view (read it whole at its own id)."""

    model_config = ConfigDict(from_attributes=True)

    incident_id: str
    timestamp: datetime
    threat_level: ThreatLevel
    threat_score: float
    action_taken: str | None
    status: str


class IncidentListOut(BaseModel):
    count: int = Field(description="Incidents in this page.")
    total: int = Field(description="Incidents matching the filters.")
    limit: int
    offset: int
    incidents: list[IncidentSummary]


class ThreatLevelListOut(BaseModel):
    threat_level: ThreatLevel
    count: int
    incidents: list[IncidentSummary]


class IncidentOut(BaseModel):
    """One incident with its protocol record, evidence, location and the engine's full telemetry."""

    id: int
    incident_id: str
    timestamp: datetime
    threat_level: ThreatLevel
    threat_score: float
    people_count: int
    weapon_detected: bool
    weapon_types: list[str]
    behavior_summary: str
    is_critical: bool
    status: str
    action_taken: str | None
    response_time_ms: int | None
    created_at: datetime
    updated_at: datetime
    duplicate_count: int
    grouped_into: str | None
    grouped_reports: list[GroupedReportOut] = Field(description="Reports grouped into it, oldest first.")
    last_reported_at: datetime | None
    source_id: str | None
    owner_id: int | None
    location: LocationOut | None
    location_source: str = Field(
        description="Where the location came from; 'none' when the incident could not be placed."
    )
    reported_timestamp: datetime | None = Field(description="The time the engine sent, in UTC.")
    received_at: datetime | None = Field(description="When the server received the report.")
    clock_skew_s: float | None = Field(
        description="Seconds the reported time was ahead of the receipt, when beyond the tolerance: then "
        "`timestamp` (the time alerts and scores use) is the receipt time."
    )
    dispatched_at: datetime | None = Field(description="When a unit was dispatched.")
    dispatch_unit: str | None = Field(description="The unit dispatched (a registered unit's name).")
    full_telemetry: dict[str, Any]
    actions: list[ActionOut]
    alerts: list[AlertOut]
    evidence: list[EvidenceOut]

    @classmethod
    def build(
        cls,
        *,
        incident: Incident,
        actions: Sequence[IncidentAction],
        alerts: Sequence[IncidentAlert],
        evidence: Sequence[Evidence],
        grouped_reports: Sequence[Incident] = (),
    ) -> IncidentOut:
        location = None
        if incident.latitude is not None and incident.longitude is not None:
            location = LocationOut(
                latitude=incident.latitude,
                longitude=incident.longitude,
                accuracy_m=incident.location_accuracy_m,
                source=incident.location_source or LocationSource.report.value,
                fix_age_s=incident.location_fix_age_s,
            )
        return cls(
            **IncidentSummary.model_validate(incident).model_dump(exclude={"latitude", "longitude"}),
            id=incident.id,
            weapon_types=incident.weapon_types,
            behavior_summary=incident.behavior_summary,
            response_time_ms=incident.response_time_ms,
            owner_id=incident.owner_id,
            location=location,
            location_source=location.source if location else LocationSource.none.value,
            reported_timestamp=incident.reported_timestamp,
            received_at=incident.received_at,
            clock_skew_s=incident.clock_skew_s,
            dispatched_at=incident.dispatched_at,
            dispatch_unit=incident.dispatch_unit,
            full_telemetry=incident.full_telemetry,
            actions=[ActionOut.model_validate(action) for action in actions],
            alerts=[AlertOut.model_validate(alert) for alert in alerts],
            evidence=[EvidenceOut.from_record(record) for record in evidence],
            grouped_reports=[GroupedReportOut.model_validate(report) for report in grouped_reports],
        )


class IncidentStatistics(BaseModel):
    total_incidents: int
    count_LOW: int
    count_MEDIUM: int
    count_HIGH: int
    count_CRITICAL: int
    weapons_detected: int
    critical_incidents: int
    grouped_reports: int = Field(description="Reports grouped into an open incident of their source.")
    open_cases: int = Field(description="Open incidents not grouped into another (cases being handled).")


class ResponseAnalyticsOut(BaseModel):
    """How fast the platform and the people behind it respond (all incidents so far)."""

    time_to_notify_p50_ms: int | None = Field(
        description="Report received to first police delivery attempt done."
    )
    time_to_notify_p95_ms: int | None
    time_to_acknowledge_p50_ms: int | None = Field(
        description="Report received to an authority's acknowledgement."
    )
    time_to_acknowledge_p95_ms: int | None
    deliveries: dict[str, int] = Field(
        description="Deliveries by status: pending, sending, sent, failed, cancelled."
    )


class StatisticsOut(BaseModel):
    timestamp: datetime
    statistics: IncidentStatistics
    response_analytics: ResponseAnalyticsOut


class AcknowledgeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    notes: str | None = Field(default=None, max_length=2000)


class DispatchIn(BaseModel):
    """A registered unit by ``unit_id`` (it must be available; it is then dispatched until the incident
    closes), or, as before the units registry, a unit named in free text (``unit``)."""

    model_config = ConfigDict(extra="forbid")
    unit_id: int | None = Field(default=None, ge=1, le=MAX_ID, description="A unit of GET /units.")
    unit: str | None = Field(
        default=None, min_length=1, max_length=100, description="Free text, e.g. 'Patrol 12'."
    )
    notes: str | None = Field(default=None, max_length=2000)

    @model_validator(mode="after")
    def _one_unit(self) -> DispatchIn:
        if (self.unit_id is None) == (self.unit is None):
            raise ValueError("give either unit_id (a registered unit) or unit (free text), not both")
        return self


class ResolveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    outcome: Literal["resolved", "false_alarm"] = "resolved"
    notes: str | None = Field(default=None, max_length=2000)


class NoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=4000)


class TimelineEntryOut(BaseModel):
    at: datetime
    kind: str
    actor_id: int | None
    actor_email: str | None = Field(default=None, description="Who did it, for the timeline in words.")
    details: dict[str, Any]


class TimelineOut(BaseModel):
    incident_id: str
    status: str
    entries: list[TimelineEntryOut]


class IncidentStatusOut(BaseModel):
    incident_id: str
    status: str
    acknowledged_at: datetime | None
    dispatched_at: datetime | None
    dispatch_unit: str | None
    resolved_at: datetime | None


class SharedFixOut(BaseModel):
    lat: float
    lon: float
    timestamp: datetime
    accuracy: float | None


class SharedLocationOut(BaseModel):
    incident_id: str
    threat_level: str
    status: str
    incident_location: dict[str, float] | None
    latest_fixes: list[SharedFixOut]
    expires_at: datetime | None
