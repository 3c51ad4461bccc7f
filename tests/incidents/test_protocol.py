"""The response protocol as data: the default table, conditions, and override files checked at start-up."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from safesphere.app import create_app
from safesphere.cli import app as cli
from safesphere.core.config import Settings
from safesphere.core.db import Database
from safesphere.incidents.models import IncidentAction, IncidentAlert
from safesphere.incidents.protocol import SAMPLE_FACTS, ThreatLevel, plan_response
from safesphere.incidents.protocol_table import DEFAULT_PROTOCOL, ProtocolFileError, load_protocol
from tests.factories import Factory
from tests.incidents.reports import report_body

HIGH_OVERRIDE_TOML = """
[levels.HIGH]
action_taken = "CALL_SECURITY"
description = "Site security handles HIGH threats"

[[levels.HIGH.steps]]
action_type = "call_security"
description = "Call site security for {incident_id}"
[[levels.HIGH.steps.alerts]]
alert_type = "security_call"
recipient = "police_dispatch"
message = "Security to {location} ({people_count} people)"

[[levels.HIGH.steps]]
action_type = "tell_owner"
description = "Tell the protected person"
when = "has_owner"
alerts = [{ alert_type = "owner_notice", recipient = "user", message = "Help is on the way" }]
"""

HIGH_OVERRIDE_YAML = """
levels:
  HIGH:
    action_taken: CALL_SECURITY
    description: Site security handles HIGH threats
    steps:
      - action_type: call_security
        description: "Call site security for {incident_id}"
        alerts:
          - alert_type: security_call
            recipient: police_dispatch
            message: "Security to {location} ({people_count} people)"
      - action_type: tell_owner
        description: Tell the protected person
        when: has_owner
        alerts:
          - {alert_type: owner_notice, recipient: user, message: Help is on the way}
"""


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_the_default_table_follows_the_document() -> None:
    labels = {level: spec.action_taken for level, spec in DEFAULT_PROTOCOL.levels.items()}
    assert labels == {
        ThreatLevel.LOW: "MONITOR",
        ThreatLevel.MEDIUM: "ALERT_USER",
        ThreatLevel.HIGH: "ALERT_POLICE",
        ThreatLevel.CRITICAL: "EMERGENCY_PROTOCOL",
    }
    assert load_protocol(None) is DEFAULT_PROTOCOL


def test_armed_threat_escalation_runs_only_when_a_weapon_was_detected() -> None:
    armed = plan_response(DEFAULT_PROTOCOL, SAMPLE_FACTS)
    unarmed = plan_response(DEFAULT_PROTOCOL, dataclasses.replace(SAMPLE_FACTS, weapon_detected=False))
    assert armed.actions[-1].action_type == "armed_threat_escalation"
    assert [a.action_type for a in armed.actions[:-1]] == [a.action_type for a in unarmed.actions]
    assert len(armed.alerts) == len(unarmed.alerts) + 1


@pytest.mark.parametrize(
    ("name", "text"), [("protocol.toml", HIGH_OVERRIDE_TOML), ("protocol.yaml", HIGH_OVERRIDE_YAML)]
)
def test_an_override_file_replaces_only_the_levels_it_names(tmp_path: Path, name: str, text: str) -> None:
    protocol = load_protocol(_write(tmp_path, name, text))
    assert protocol.levels[ThreatLevel.HIGH].action_taken == "CALL_SECURITY"
    for level in (ThreatLevel.LOW, ThreatLevel.MEDIUM, ThreatLevel.CRITICAL):
        assert protocol.levels[level] == DEFAULT_PROTOCOL.levels[level]
    high = dataclasses.replace(SAMPLE_FACTS, threat_level=ThreatLevel.HIGH)
    assert [a.action_type for a in plan_response(protocol, high).actions] == ["call_security", "tell_owner"]
    ownerless = dataclasses.replace(high, owner_id=None)
    assert [a.action_type for a in plan_response(protocol, ownerless).actions] == ["call_security"]


@pytest.mark.parametrize("suffix", ["toml", "yml"])
def test_the_running_app_follows_the_override_file(tmp_path: Path, settings: Settings, suffix: str) -> None:
    text = HIGH_OVERRIDE_TOML if suffix == "toml" else HIGH_OVERRIDE_YAML
    overridden = settings.model_copy(update={"protocol_file": _write(tmp_path, f"p.{suffix}", text)})
    with TestClient(create_app(overridden)) as client:
        factory = Factory(client=client, db=client.app.state.db)  # type: ignore[attr-defined]
        engine = factory.engine_key()
        body = report_body(threat_level="HIGH", latitude=1.5, longitude=2.5)
        response = client.post("/threats/report", json=body, headers=engine.headers)
        db: Database = client.app.state.db  # type: ignore[attr-defined]
        with db.read_session() as session:
            actions = session.scalars(sa.select(IncidentAction).order_by(IncidentAction.id)).all()
            alerts = session.scalars(sa.select(IncidentAlert).order_by(IncidentAlert.id)).all()

    assert response.status_code == 200, response.text
    assert response.json()["action_taken"] == "CALL_SECURITY"
    assert [(a.action_type, a.description) for a in actions] == [
        ("call_security", f"Call site security for {body['incident_id']}")
    ]
    assert [(a.alert_type, a.recipient, a.message, a.status) for a in alerts] == [
        ("security_call", "police_dispatch", "Security to 1.500000,2.500000 (2 people)", "pending")
    ]


BAD_FILES = [
    ("unknown level", "levels:\n  SEVERE: {}\n", "levels.SEVERE"),
    ("no levels", "levels: {}\n", "levels"),
    ("no steps", "levels:\n  LOW: {action_taken: MONITOR, description: x, steps: []}\n", "levels.LOW.steps"),
    ("unknown template field",
     "levels:\n  LOW:\n    action_taken: MONITOR\n    description: x\n    steps:\n"
     "      - {action_type: log, description: 'see {password}'}\n",
     "unknown template field {password}"),
    ("attribute access",
     "levels:\n  LOW:\n    action_taken: MONITOR\n    description: x\n    steps:\n"
     "      - {action_type: log, description: '{incident_id.__class__}'}\n",
     "unknown template field"),
    ("bad format spec",
     "levels:\n  LOW:\n    action_taken: MONITOR\n    description: x\n    steps:\n"
     "      - {action_type: log, description: '{incident_id:d}'}\n",
     "does not render"),
    ("unknown condition",
     "levels:\n  LOW:\n    action_taken: MONITOR\n    description: x\n    steps:\n"
     "      - {action_type: log, description: x, when: full_moon}\n",
     "levels.LOW.steps.0.when"),
    ("unknown recipient",
     "levels:\n  LOW:\n    action_taken: MONITOR\n    description: x\n    steps:\n"
     "      - {action_type: log, description: x, alerts: [{alert_type: a, recipient: mayor, message: m}]}\n",
     "levels.LOW.steps.0.alerts.0.recipient"),
    ("duplicate steps",
     "levels:\n  LOW:\n    action_taken: MONITOR\n    description: x\n    steps:\n"
     "      - {action_type: log, description: x}\n      - {action_type: log, description: y}\n",
     "duplicate action_type in steps: log"),
    ("unknown key", "levels:\n  LOW: {action_taken: MONITOR, description: x, steps: [], colour: red}\n",
     "colour"),
    ("not a mapping", "- LOW\n", "<top>"),
    ("broken YAML", "levels: [unclosed\n", "not valid YAML"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "text", "message"), BAD_FILES, ids=[c for c, _, _ in BAD_FILES])
def test_a_bad_protocol_file_fails_with_a_clear_error(
    tmp_path: Path, case: str, text: str, message: str
) -> None:
    path = _write(tmp_path, "protocol.yaml", text)
    with pytest.raises(ProtocolFileError) as failure:
        load_protocol(path)
    assert str(path) in str(failure.value)
    assert message in str(failure.value), str(failure.value)


def test_unreadable_or_unknown_kinds_of_file_fail_clearly(tmp_path: Path) -> None:
    with pytest.raises(ProtocolFileError, match="cannot read it"):
        load_protocol(tmp_path / "missing.toml")
    with pytest.raises(ProtocolFileError, match=r"use a \.toml, \.yaml or \.yml file"):
        load_protocol(_write(tmp_path, "protocol.json", "{}"))
    with pytest.raises(ProtocolFileError, match="not valid TOML"):
        load_protocol(_write(tmp_path, "protocol.toml", "[levels.HIGH\n"))


def test_the_app_and_the_serve_command_refuse_to_start_with_a_bad_file(
    tmp_path: Path, settings: Settings
) -> None:
    bad = _write(tmp_path, "protocol.yaml", "levels:\n  SEVERE: {}\n")
    with pytest.raises(ProtocolFileError):
        create_app(settings.model_copy(update={"protocol_file": bad}))

    result = CliRunner().invoke(
        cli,
        ["serve", "--port", "1"],
        env={"SAFESPHERE_PROTOCOL_FILE": str(bad), "SAFESPHERE_DATA_DIR": str(tmp_path / "cli")},
    )
    assert result.exit_code == 1
    assert "levels.SEVERE" in result.output
    assert not (tmp_path / "cli").exists()
