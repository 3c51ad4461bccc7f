"""The response protocol as data: for each threat level, the steps (action rows) and messages (alert rows).

The default table below follows the SafeSphere Backend API document. A TOML or YAML file named by
``Settings.protocol_file`` replaces any of its levels; it is validated once, at start-up. Nothing here
touches the database or HTTP: ``plan_response`` turns a level and the incident's facts into a plan.
"""

from __future__ import annotations

import string
import tomllib
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator


class ThreatLevel(StrEnum):
    LOW = "LOW"
    MEDIUM = "MEDIUM"
    HIGH = "HIGH"
    CRITICAL = "CRITICAL"


class StepCondition(StrEnum):
    """A fact about the incident a step may require; a step without one always runs."""

    weapon_detected = "weapon_detected"
    is_critical = "is_critical"
    located = "located"
    has_owner = "has_owner"


class Recipient(StrEnum):
    """Who an alert is for; the delivery side resolves each to concrete channels and addresses."""

    police_dispatch = "police_dispatch"
    emergency_contacts = "emergency_contacts"
    user = "user"


MESSAGE_FIELDS = frozenset(
    (
        "incident_id",
        "threat_level",
        "threat_score",
        "people_count",
        "weapon_types",
        "behavior_summary",
        "location",
        "source_id",
    )
)
"""The only placeholders a message template may use (no attribute or index access)."""

IDENTIFIER_PATTERN = r"^[a-z][a-z0-9_]{0,63}$"
"""Action and alert types are stable machine names: dashboards and routing rules match on them."""


@dataclass(frozen=True)
class IncidentFacts:
    """What the protocol may look at and quote about one incident."""

    incident_id: str
    threat_level: ThreatLevel
    threat_score: float
    people_count: int
    weapon_detected: bool
    weapon_types: tuple[str, ...]
    behavior_summary: str
    is_critical: bool
    latitude: float | None
    longitude: float | None
    source_id: str | None
    owner_id: int | None

    def holds(self, condition: StepCondition) -> bool:
        return {
            StepCondition.weapon_detected: self.weapon_detected,
            StepCondition.is_critical: self.is_critical,
            StepCondition.located: self.latitude is not None and self.longitude is not None,
            StepCondition.has_owner: self.owner_id is not None,
        }[condition]

    def message_values(self) -> dict[str, object]:
        location = (
            f"{self.latitude:.6f},{self.longitude:.6f}"
            if self.latitude is not None and self.longitude is not None
            else "unknown location"
        )
        return {
            "incident_id": self.incident_id,
            "threat_level": self.threat_level.value,
            "threat_score": self.threat_score,
            "people_count": self.people_count,
            "weapon_types": ", ".join(self.weapon_types) or "none",
            "behavior_summary": self.behavior_summary,
            "location": location,
            "source_id": self.source_id or "unknown source",
        }


SAMPLE_FACTS = IncidentFacts(
    incident_id="INC_20260210_143045_001_ab12",
    threat_level=ThreatLevel.CRITICAL,
    threat_score=0.87,
    people_count=2,
    weapon_detected=True,
    weapon_types=("gun",),
    behavior_summary="Following + approaching rapidly",
    is_critical=True,
    latitude=48.8584,
    longitude=2.2945,
    source_id="cam-01",
    owner_id=1,
)
"""Every template is rendered against these facts at load time, so a bad one fails at start-up."""


def check_template(text: str) -> str:
    """``text`` if it uses only known placeholders and renders; a clear error otherwise."""
    for _literal, field_name, _spec, _conversion in string.Formatter().parse(text):
        if field_name is not None and field_name not in MESSAGE_FIELDS:
            allowed = ", ".join(sorted(MESSAGE_FIELDS))
            raise ValueError(f"unknown placeholder {{{field_name}}}; allowed: {allowed}")
    try:
        text.format_map(SAMPLE_FACTS.message_values())
    except (ValueError, TypeError) as exc:
        raise ValueError(f"template does not render: {exc}") from exc
    return text


class AlertSpec(BaseModel):
    """A message to a person or service that a step sends (recorded as an alert row)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    alert_type: str = Field(pattern=IDENTIFIER_PATTERN)
    recipient: Recipient
    message: str = Field(min_length=1, max_length=1000)

    @field_validator("message")
    @classmethod
    def _message_renders(cls, text: str) -> str:
        return check_template(text)


class StepSpec(BaseModel):
    """One step of a level's protocol (recorded as an action row), with the alerts it sends."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    action_type: str = Field(pattern=IDENTIFIER_PATTERN)
    description: str = Field(min_length=1, max_length=500)
    when: StepCondition | None = None
    alerts: tuple[AlertSpec, ...] = ()

    @field_validator("description")
    @classmethod
    def _description_renders(cls, text: str) -> str:
        return check_template(text)


class LevelSpec(BaseModel):
    """What a threat level triggers: the ``action_taken`` label and its steps, in order."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    action_taken: str = Field(pattern=r"^[A-Z][A-Z0-9_]{0,63}$")
    description: str = Field(min_length=1, max_length=500)
    steps: tuple[StepSpec, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_steps(self) -> LevelSpec:
        types = [step.action_type for step in self.steps]
        duplicates = sorted({t for t in types if types.count(t) > 1})
        if duplicates:
            raise ValueError(f"duplicate action_type in steps: {', '.join(duplicates)}")
        return self


class Protocol(BaseModel):
    """The whole table: one entry per threat level, all four required."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    levels: dict[ThreatLevel, LevelSpec]

    @field_validator("levels")
    @classmethod
    def _every_level(cls, levels: dict[ThreatLevel, LevelSpec]) -> dict[ThreatLevel, LevelSpec]:
        missing = [level.value for level in ThreatLevel if level not in levels]
        if missing:
            raise ValueError(f"missing levels: {', '.join(missing)}")
        return levels


class ProtocolOverride(BaseModel):
    """The shape of a protocol file: any subset of levels, each replacing the default level whole."""

    model_config = ConfigDict(extra="forbid")

    levels: dict[ThreatLevel, LevelSpec] = Field(min_length=1)


def _alert(alert_type: str, recipient: Recipient, message: str) -> AlertSpec:
    return AlertSpec(alert_type=alert_type, recipient=recipient, message=message)


def _step(
    action_type: str, description: str, *alerts: AlertSpec, when: StepCondition | None = None
) -> StepSpec:
    return StepSpec(action_type=action_type, description=description, when=when, alerts=alerts)


DEFAULT_PROTOCOL = Protocol(
    levels={
        ThreatLevel.LOW: LevelSpec(
            action_taken="MONITOR",
            description="Normal activity - continue monitoring",
            steps=(_step("log_incident", "Logging only - continue monitoring"),),
        ),
        ThreatLevel.MEDIUM: LevelSpec(
            action_taken="ALERT_USER",
            description="Suspicious activity detected",
            steps=(
                _step("start_recording", "Start recording (for evidence)"),
                _step(
                    "alert_user",
                    "Alert user on mobile app",
                    _alert(
                        "user_alert",
                        Recipient.user,
                        "Suspicious activity detected near you: {behavior_summary}",
                    ),
                ),
            ),
        ),
        ThreatLevel.HIGH: LevelSpec(
            action_taken="ALERT_POLICE",
            description="High threat imminent - police response",
            steps=(
                _step("start_recording", "Start recording (continuous)"),
                _step(
                    "notify_police",
                    "Notify police/dispatch center",
                    _alert(
                        "police_notification",
                        Recipient.police_dispatch,
                        "HIGH threat {incident_id} at {location}: {behavior_summary} ({people_count} people)",
                    ),
                ),
                _step(
                    "notify_emergency_contacts",
                    "Notify emergency contacts",
                    _alert(
                        "emergency_contact",
                        Recipient.emergency_contacts,
                        "Your contact may be in danger (HIGH threat {incident_id}) at {location}",
                    ),
                ),
                _step(
                    "share_live_location",
                    "Share live location",
                    _alert(
                        "location_share", Recipient.emergency_contacts, "Live location shared: {location}"
                    ),
                ),
            ),
        ),
        ThreatLevel.CRITICAL: LevelSpec(
            action_taken="EMERGENCY_PROTOCOL",
            description="Critical threat - full emergency protocol",
            steps=(
                _step(
                    "police_dispatch",
                    "IMMEDIATE police dispatch (priority)",
                    _alert(
                        "police_dispatch",
                        Recipient.police_dispatch,
                        "PRIORITY DISPATCH: CRITICAL threat {incident_id} at {location}: {behavior_summary}",
                    ),
                ),
                _step("continuous_recording_360", "Continuous 360° recording"),
                _step(
                    "live_location_streaming",
                    "Live location streaming to all contacts",
                    _alert(
                        "location_stream", Recipient.emergency_contacts, "Live location streaming: {location}"
                    ),
                ),
                _step("voice_alerts", "Voice alerts activated"),
                _step(
                    "safe_route",
                    "Safe route to nearest police station",
                    _alert("safe_route", Recipient.user, "Move towards the nearest police station now"),
                ),
                _step(
                    "notify_all_emergency_contacts",
                    "All emergency contacts notified immediately",
                    _alert(
                        "emergency_contact",
                        Recipient.emergency_contacts,
                        "EMERGENCY: your contact faces a CRITICAL threat ({incident_id}) at {location}",
                    ),
                ),
                _step(
                    "armed_threat_escalation",
                    "Armed threat escalation: weapon detected ({weapon_types})",
                    _alert(
                        "armed_threat",
                        Recipient.police_dispatch,
                        "ARMED THREAT {incident_id}: {weapon_types} detected at {location}",
                    ),
                    when=StepCondition.weapon_detected,
                ),
            ),
        ),
    }
)


class ProtocolFileError(ValueError):
    """A protocol file that cannot be read or does not describe a valid protocol."""


def _read_table(path: Path) -> Any:
    suffix = path.suffix.lower()
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ProtocolFileError(f"protocol file {path}: cannot read it ({exc})") from exc
    try:
        if suffix == ".toml":
            return tomllib.loads(text)
        if suffix in {".yaml", ".yml"}:
            return yaml.safe_load(text)
    except (tomllib.TOMLDecodeError, yaml.YAMLError) as exc:
        raise ProtocolFileError(f"protocol file {path}: not valid {suffix[1:].upper()} ({exc})") from exc
    raise ProtocolFileError(f"protocol file {path}: use a .toml, .yaml or .yml file")


def load_protocol(path: Path | None) -> Protocol:
    """The default protocol, with the levels a TOML/YAML file at ``path`` defines replacing the defaults."""
    if path is None:
        return DEFAULT_PROTOCOL
    table = _read_table(path)
    try:
        override = ProtocolOverride.model_validate(table)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or '<top>'}: {error['msg']}"
            for error in exc.errors()
        )
        raise ProtocolFileError(f"protocol file {path}: {problems}") from exc
    return Protocol(levels={**DEFAULT_PROTOCOL.levels, **override.levels})


@dataclass(frozen=True)
class PlannedAlert:
    action_type: str
    alert_type: str
    recipient: str
    message: str


@dataclass(frozen=True)
class PlannedAction:
    action_type: str
    description: str
    alerts: tuple[PlannedAlert, ...]


@dataclass(frozen=True)
class ResponsePlan:
    """What the protocol does for one incident: the label, the steps that apply, and their alerts."""

    action_taken: str
    description: str
    actions: tuple[PlannedAction, ...]

    @property
    def alerts(self) -> tuple[PlannedAlert, ...]:
        return tuple(alert for action in self.actions for alert in action.alerts)


def plan_response(protocol: Protocol, facts: IncidentFacts) -> ResponsePlan:
    """The steps of ``facts.threat_level`` whose conditions hold, with their messages rendered."""
    level = protocol.levels[facts.threat_level]
    values = facts.message_values()
    actions = tuple(
        PlannedAction(
            action_type=step.action_type,
            description=step.description.format_map(values),
            alerts=tuple(
                PlannedAlert(
                    step.action_type, spec.alert_type, spec.recipient.value, spec.message.format_map(values)
                )
                for spec in step.alerts
            ),
        )
        for step in level.steps
        if step.when is None or facts.holds(step.when)
    )
    return ResponsePlan(action_taken=level.action_taken, description=level.description, actions=actions)
