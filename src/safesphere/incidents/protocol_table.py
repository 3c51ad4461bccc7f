"""The response protocol table: the default, following the SafeSphere Backend API document, and the TOML or
YAML file named by ``Settings.protocol_file`` that replaces any of its levels, validated once at start-up."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from safesphere.incidents.protocol import (
    AlertSpec,
    LevelSpec,
    Protocol,
    Recipient,
    StepCondition,
    StepSpec,
    ThreatLevel,
)


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


class ProtocolOverride(BaseModel):
    """The shape of a protocol file: any subset of levels, each replacing the default level whole."""

    model_config = ConfigDict(extra="forbid")

    levels: dict[ThreatLevel, LevelSpec] = Field(min_length=1)


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
