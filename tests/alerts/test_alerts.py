"""Safety alerts for authorities: filters, acknowledge and resolve (who, when), incident-derived alerts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from safesphere.core import clock
from tests.factories import Factory
from tests.tracking.fixtures import MINUTE, camera_sees_threat, send_fix

NOW = datetime(2026, 11, 20, 13, 0, tzinfo=UTC)


def test_located_incidents_become_alerts_and_unlocated_ones_do_not(
    client: TestClient, factory: Factory
) -> None:
    officer = factory.authority()
    with clock.frozen(NOW):
        incident_id = camera_sees_threat(client, factory, NOW - MINUTE, level="MEDIUM")
        phone = factory.engine_key()
        from tests.incidents.reports import report_body

        assert client.post("/threats/report", json=report_body(), headers=phone.headers).status_code == 200
    alerts = client.get("/alerts", headers=officer.headers).json()
    assert [(a["type"], a["severity"], a["incident_id"]) for a in alerts] == [
        ("incident", "medium", incident_id)
    ]


def test_filters_acknowledge_and_resolve(client: TestClient, factory: Factory) -> None:
    officer, tourist = factory.authority(), factory.tourist()
    with clock.frozen(NOW):
        send_fix(client, tourist, NOW)
        sos = client.post("/sos", headers=tourist.headers).json()
        camera_sees_threat(client, factory, NOW - MINUTE, level="HIGH", lat=10.0, lon=10.0)
        assert [
            a["type"] for a in client.get("/alerts?severity=critical", headers=officer.headers).json()
        ] == ["sos"]
        assert [a["type"] for a in client.get("/alerts?bbox=9,9,11,11", headers=officer.headers).json()] == [
            "incident"
        ]
        assert client.get("/alerts?bbox=1,2,3", headers=officer.headers).status_code == 422
        assert client.get("/alerts?bbox=11,9,9,11", headers=officer.headers).status_code == 422
        acknowledged = client.post(f"/alerts/{sos['alert_id']}/acknowledge", headers=officer.headers).json()
        assert acknowledged["status"] == "acknowledged" and acknowledged["acknowledged_by"] == officer.user.id
        again = client.post(f"/alerts/{sos['alert_id']}/acknowledge", headers=officer.headers)
        assert again.status_code == 409
        clock_now = clock.now()
        resolved = client.post(
            f"/alerts/{sos['alert_id']}/resolve", json={"notes": "Found safe"}, headers=officer.headers
        )
    body = resolved.json()
    assert body["status"] == "resolved" and body["resolution_notes"] == "Found safe"
    assert body["resolved_by"] == officer.user.id and body["resolved_at"].startswith(
        clock_now.isoformat()[:19]
    )
    assert client.post(f"/alerts/{sos['alert_id']}/resolve", headers=officer.headers).status_code == 409
    assert client.post("/alerts/999999/resolve", headers=officer.headers).json() == {
        "detail": "Alert not found"
    }
    assert [a["status"] for a in client.get("/alerts?status=open", headers=officer.headers).json()] == [
        "open"
    ]


def test_alerts_carry_updated_at_which_every_change_moves_on(client: TestClient, factory: Factory) -> None:
    """A dashboard merging a list with live events keeps the copy with the later updated_at."""
    officer, tourist = factory.authority(), factory.tourist()

    def listed(status: str) -> list[dict[str, Any]]:
        response = client.get(f"/alerts?status={status}", headers=officer.headers)
        assert response.status_code == 200, response.text
        alerts: list[dict[str, Any]] = response.json()
        return alerts

    with clock.frozen(NOW) as frozen:
        sos = client.post("/sos", json={"lat": 41.39, "lon": 2.17}, headers=tourist.headers).json()
        assert datetime.fromisoformat(sos["updated_at"]) == NOW
        assert listed("open") == [sos]
        frozen.advance(seconds=20)
        acknowledged = client.post(f"/alerts/{sos['alert_id']}/acknowledge", headers=officer.headers).json()
        frozen.advance(seconds=20)
        resolved = client.post(f"/alerts/{sos['alert_id']}/resolve", headers=officer.headers).json()
    assert datetime.fromisoformat(acknowledged["updated_at"]) == NOW + timedelta(seconds=20)
    assert datetime.fromisoformat(resolved["updated_at"]) == NOW + timedelta(seconds=40)
    assert listed("resolved") == [resolved]
    assert client.get("/me/alerts", headers=tourist.headers).json() == [resolved]


def test_authority_monitoring_lists_latest_positions_worst_first(
    client: TestClient, factory: Factory
) -> None:
    officer = factory.authority()
    calm, worried = factory.tourist(name="Calm"), factory.tourist(name="Worried")
    with clock.frozen(NOW):
        send_fix(client, calm, NOW - 5 * MINUTE)
        send_fix(client, calm, NOW)
        camera_sees_threat(client, factory, NOW - MINUTE, lat=48.0, lon=2.0)
        send_fix(client, worried, NOW, lat=48.0, lon=2.0)
        client.post("/me/contacts", json={"name": "Dad", "phone": "+33 600 000 000"}, headers=worried.headers)
        listed = client.get("/authority/tourists", headers=officer.headers).json()
        one = client.get(f"/authority/tourists/{worried.user.id}", headers=officer.headers).json()
        track = client.get(
            f"/authority/tourists/{calm.user.id}/locations?hours_back=1", headers=officer.headers
        ).json()
    assert listed["count"] == 2
    assert [t["name"] for t in listed["tourists"]] == ["Worried", "Calm"]
    assert listed["tourists"][0]["location"] == {"lat": 48.0, "lon": 2.0}
    only_near = client.get("/authority/tourists?bbox=1.9,47.9,2.1,48.1", headers=officer.headers).json()
    assert [t["name"] for t in only_near["tourists"]] == ["Worried"]
    assert [c["name"] for c in one["contacts"]] == ["Dad"]
    assert len(track["locations"]) == 2
    assert client.get(f"/authority/tourists/{officer.user.id}", headers=officer.headers).status_code == 404
