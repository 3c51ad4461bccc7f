"""POST /threats/report: the stored incident, the protocol's rows for every level, and engine keys."""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime

import httpx
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from safesphere.core import clock
from safesphere.core.db import Database
from safesphere.incidents.models import Incident, IncidentAction, IncidentAlert
from tests.factories import Factory
from tests.incidents.reports import NOTHING_STORED, report_body, stored_counts
from tests.support.live import LiveServer

EXPECTED_PROTOCOL: dict[str, tuple[str, list[tuple[str, list[tuple[str, str]]]]]] = {
    "LOW": ("MONITOR", [("log_incident", [])]),
    "MEDIUM": (
        "ALERT_USER",
        [("start_recording", []), ("alert_user", [("user_alert", "user")])],
    ),
    "HIGH": (
        "ALERT_POLICE",
        [
            ("start_recording", []),
            ("notify_police", [("police_notification", "police_dispatch")]),
            ("notify_emergency_contacts", [("emergency_contact", "emergency_contacts")]),
            ("share_live_location", [("location_share", "emergency_contacts")]),
        ],
    ),
    "CRITICAL": (
        "EMERGENCY_PROTOCOL",
        [
            ("police_dispatch", [("police_dispatch", "police_dispatch")]),
            ("continuous_recording_360", []),
            ("live_location_streaming", [("location_stream", "emergency_contacts")]),
            ("voice_alerts", []),
            ("safe_route", [("safe_route", "user")]),
            ("notify_all_emergency_contacts", [("emergency_contact", "emergency_contacts")]),
        ],
    ),
}
ARMED_ESCALATION = ("armed_threat_escalation", [("armed_threat", "police_dispatch")])


def _rows(db: Database, incident_id: str) -> tuple[list[IncidentAction], list[IncidentAlert]]:
    with db.read_session() as session:
        actions = session.scalars(
            sa.select(IncidentAction)
            .where(IncidentAction.incident_id == incident_id)
            .order_by(IncidentAction.id)
        ).all()
        alerts = session.scalars(
            sa.select(IncidentAlert)
            .where(IncidentAlert.incident_id == incident_id)
            .order_by(IncidentAlert.id)
        ).all()
    return list(actions), list(alerts)


def _incident(db: Database, incident_id: str) -> Incident:
    with db.read_session() as session:
        incident = session.scalar(sa.select(Incident).where(Incident.incident_id == incident_id))
    assert incident is not None
    return incident


@pytest.mark.parametrize("level", ["LOW", "MEDIUM", "HIGH", "CRITICAL"])
def test_each_level_records_exactly_its_protocol_steps_and_pending_alerts(
    client: TestClient, factory: Factory, db: Database, level: str
) -> None:
    owner = factory.tourist()
    contact = {"name": "Ana", "relation": "sister", "phone": "+33600000000", "email": "ana@example.com"}
    assert client.post("/me/contacts", json=contact, headers=owner.headers).status_code == 201
    engine = factory.engine_key(owner=owner)
    body = report_body(
        threat_level=level, weapon_detected=False, weapon_types=[], is_critical=level == "CRITICAL"
    )
    response = client.post("/threats/report", json=body, headers=engine.headers)

    assert response.status_code == 200, response.text
    action_taken, steps = EXPECTED_PROTOCOL[level]
    result = response.json()
    assert result["success"] is True
    assert result["incident_id"] == body["incident_id"]
    assert result["message"] == f"Threat incident {level} logged and actions executed"
    assert result["action_taken"] == action_taken
    assert [a["action_type"] for a in result["actions"]] == [step for step, _ in steps]

    actions, alerts = _rows(db, body["incident_id"])
    assert [a.action_type for a in actions] == [step for step, _ in steps]
    assert {a.status for a in actions} == {"executed"}
    expected_alerts = [(step, kind, to) for step, sent in steps for kind, to in sent]
    assert [(a.action_type, a.alert_type, a.recipient) for a in alerts] == expected_alerts
    assert all(a.status == "pending" and a.sent_at is None and a.message for a in alerts)
    incident = _incident(db, body["incident_id"])
    assert incident.status == "actions_executed"
    assert incident.action_taken == action_taken


def test_critical_with_a_weapon_adds_the_armed_threat_escalation(
    client: TestClient, factory: Factory, db: Database
) -> None:
    engine = factory.engine_key()
    body = report_body(weapon_types=["gun", "knife", "gun"])
    response = client.post("/threats/report", json=body, headers=engine.headers)

    assert response.status_code == 200, response.text
    _, steps = EXPECTED_PROTOCOL["CRITICAL"]
    actions, alerts = _rows(db, body["incident_id"])
    assert [a.action_type for a in actions] == [step for step, _ in [*steps, ARMED_ESCALATION]]
    escalation = alerts[-1]
    assert (escalation.alert_type, escalation.recipient) == ("armed_threat", "police_dispatch")
    assert "gun, knife, gun" in escalation.message
    assert (
        response.json()["actions"][-1]["description"]
        == "Armed threat escalation: weapon detected (gun, knife, gun)"
    )


def test_the_stored_incident_keeps_every_field_and_the_whole_telemetry(
    client: TestClient, factory: Factory, db: Database
) -> None:
    engine = factory.engine_key(name="phone-ana")
    body = report_body(
        behavior_summary="Following + approaching rapidly 🏃‍♂️🔪",
        weapon_types=["gun", "gun"],
        latitude=48.8584,
        longitude=2.2945,
        location_accuracy_m=12.5,
    )
    with clock.frozen(datetime(2026, 2, 10, 14, 30, 46, tzinfo=UTC)):
        response = client.post("/threats/report", json=body, headers=engine.headers)
    assert response.status_code == 200, response.text

    incident = _incident(db, body["incident_id"])
    assert incident.timestamp == datetime(2026, 2, 10, 14, 30, 45, 123000, tzinfo=UTC)
    assert incident.created_at == datetime(2026, 2, 10, 14, 30, 46, tzinfo=UTC)
    assert incident.behavior_summary == body["behavior_summary"]
    assert incident.weapon_types == ["gun", "gun"]
    assert incident.full_telemetry == body["full_telemetry"]
    assert (incident.latitude, incident.longitude, incident.location_accuracy_m) == (48.8584, 2.2945, 12.5)
    assert incident.location_source == "report"
    assert incident.source_id == "phone-ana"
    assert incident.engine_key_id == engine.key_id
    assert incident.response_time_ms is None  # set by the first delivery attempt to police (tests/notify)


def test_a_missing_incident_id_is_made_from_the_receive_time(client: TestClient, factory: Factory) -> None:
    engine = factory.engine_key()
    body = report_body()
    del body["incident_id"]
    with clock.frozen(datetime(2026, 2, 10, 14, 30, 45, 123456, tzinfo=UTC)):
        first = client.post("/threats/report", json=body, headers=engine.headers)
        second = client.post("/threats/report", json=body, headers=engine.headers)

    assert first.status_code == second.status_code == 200
    ids = [first.json()["incident_id"], second.json()["incident_id"]]
    for made in ids:
        assert re.fullmatch(r"INC_20260210_143045_123_[0-9a-f]{4}", made), made
    assert ids[0] != ids[1]


@pytest.mark.parametrize("settings_overrides", [{"default_timezone": "Asia/Kolkata"}])
def test_a_naive_timestamp_is_read_in_the_default_time_zone(
    client: TestClient, factory: Factory, db: Database
) -> None:
    engine = factory.engine_key()
    naive = report_body(timestamp="2026-02-10T20:00:45.123")
    aware = report_body(timestamp="2026-02-10T14:30:45.123+00:00")
    assert client.post("/threats/report", json=naive, headers=engine.headers).status_code == 200
    assert client.post("/threats/report", json=aware, headers=engine.headers).status_code == 200

    expected = datetime(2026, 2, 10, 14, 30, 45, 123000, tzinfo=UTC)
    assert _incident(db, naive["incident_id"]).timestamp == expected
    assert _incident(db, aware["incident_id"]).timestamp == expected


def test_a_fixed_camera_key_gives_the_incident_its_place_and_owner(
    client: TestClient, factory: Factory, db: Database
) -> None:
    owner = factory.tourist()
    camera = factory.engine_key(name="cam-01", owner=owner, latitude=28.6129, longitude=77.2295)
    body = report_body(latitude=10.0, longitude=10.0, location_accuracy_m=3.0, source_id="lens-2")
    assert client.post("/threats/report", json=body, headers=camera.headers).status_code == 200

    incident = _incident(db, body["incident_id"])
    assert (incident.latitude, incident.longitude) == (28.6129, 77.2295)
    assert incident.location_accuracy_m is None
    assert incident.location_source == "engine_key"
    assert incident.owner_id == owner.user.id
    assert incident.source_id == "lens-2"


def test_a_report_without_any_location_is_stored_unlocated(
    client: TestClient, factory: Factory, db: Database
) -> None:
    engine = factory.engine_key()
    body = report_body(threat_level="HIGH")
    assert client.post("/threats/report", json=body, headers=engine.headers).status_code == 200
    incident = _incident(db, body["incident_id"])
    assert (incident.latitude, incident.longitude, incident.location_source) == (None, None, "none")
    _, alerts = _rows(db, body["incident_id"])
    assert "unknown location" in alerts[0].message


def test_the_three_engine_key_forms_are_accepted(client: TestClient, factory: Factory, db: Database) -> None:
    engine = factory.engine_key(name="cam-07")
    basic = base64.b64encode(f"cam-07:{engine.key}".encode()).decode()
    forms = [
        {"Authorization": f"Bearer {engine.key}"},
        {"X-API-Key": engine.key},
        {"Authorization": f"Basic {basic}"},
    ]
    for headers in forms:
        response = client.post("/threats/report", json=report_body(), headers=headers)
        assert response.status_code == 200, (headers, response.text)
    assert stored_counts(db)["incidents"] == 3


def test_the_key_embedded_in_the_base_url_works_as_the_engine_sends_it(
    live_server: LiveServer, factory: Factory, db: Database
) -> None:
    engine = factory.engine_key(name="cam-01")
    backend_url = live_server.url.replace("http://", f"http://cam-01:{engine.key}@")
    body = report_body()
    response = httpx.post(f"{backend_url}/threats/report", json=body, timeout=10)

    assert response.status_code == 200, response.text
    assert response.json()["action_taken"] == "EMERGENCY_PROTOCOL"
    assert _incident(db, body["incident_id"]).engine_key_id == engine.key_id


def test_reports_without_a_valid_live_key_are_refused_and_not_stored(
    client: TestClient, factory: Factory, db: Database
) -> None:
    engine = factory.engine_key(name="cam-gone")
    authority = factory.authority()
    cases = [
        ({}, 401),
        ({"X-API-Key": "ssk_not-a-real-key"}, 401),
        ({"Authorization": "Bearer ssk_not-a-real-key"}, 401),
        (authority.headers, 403),
    ]
    for headers, expected in cases:
        response = client.post("/threats/report", json=report_body(), headers=headers)
        assert response.status_code == expected, (headers, response.text)
    admin = factory.admin()
    assert client.delete("/admin/keys/cam-gone", headers=admin.headers).status_code == 200
    revoked = client.post("/threats/report", json=report_body(), headers=engine.headers)
    assert revoked.status_code == 401
    assert revoked.json() == {"detail": "Not authenticated"}
    assert stored_counts(db) == NOTHING_STORED
