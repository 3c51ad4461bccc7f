"""The response protocol as data: for each threat level, the steps (action rows) and messages (alert rows).

This module holds the shape of the table and ``plan_response``, which turns a level and an incident's facts
into a plan; the table itself (default and override file) is in ``protocol_table``. No database, no HTTP.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


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
"""The only fields a message template may use (no attribute or index access)."""

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
    """``text`` if it uses only known template fields and renders; a clear error otherwise."""
    for _literal, field_name, _spec, _conversion in string.Formatter().parse(text):
        if field_name is not None and field_name not in MESSAGE_FIELDS:
            allowed = ", ".join(sorted(MESSAGE_FIELDS))
            raise ValueError(f"unknown template field {{{field_name}}}; allowed: {allowed}")
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
