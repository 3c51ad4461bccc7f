"""Time that survives real clocks: a naive engine time is read in the zone of the key's place (else the
key's own zone, else the default); a time ahead of the receipt beyond the tolerance counts from the
receipt; nonsense times are refused. The proof a tourist feels: their score sees the threat at once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from safesphere.core import clock
from safesphere.core.db import Database
from tests.factories import Account, EngineCredentials, Factory
from tests.incidents.reports import NOTHING_STORED, report_body, stored_counts
from tests.tracking.fixtures import SPOT, factors_by_name, send_fix

NOW = datetime(2026, 11, 20, 13, 0, tzinfo=UTC)
PHOENIX = (33.4484, -112.0740)
"""America/Phoenix: UTC-7 all year (no daylight saving)."""


def _naive(when: datetime, offset_h: float) -> str:
    """``when`` as the wall clock of a place ``offset_h`` hours from UTC shows it, without a zone: what
    ``datetime.now().isoformat()`` sends."""
    return (when + timedelta(hours=offset_h)).replace(tzinfo=None).isoformat()


def _nearby_alerts(client: TestClient, tourist: Account, at: datetime, lat: float, lon: float) -> Any:
    body = send_fix(client, tourist, at, lat=lat, lon=lon)
    return factors_by_name(body)["nearby_alerts"]


def _report(client: TestClient, key: EngineCredentials, **overrides: Any) -> dict[str, Any]:
    body = report_body(threat_level="HIGH", is_critical=False, weapon_detected=False, weapon_types=[])
    body.update(overrides)
    response = client.post("/threats/report", json=body, headers=key.headers)
    assert response.status_code == 200, response.text
    return body


@pytest.mark.parametrize(
    ("place", "offset_h", "clock_ahead"),
    [
        (SPOT, 1, timedelta(minutes=10)),  # Paris (UTC+1 in November), a camera clock 10 minutes fast
        (PHOENIX, -7, timedelta(0)),  # 7 hours west of UTC, a correct clock
    ],
    ids=["camera_10_min_fast", "camera_7_h_west"],
)
def test_a_naive_local_camera_time_lowers_a_nearby_score_at_once(
    client: TestClient, factory: Factory, place: tuple[float, float], offset_h: float, clock_ahead: timedelta
) -> None:
    officer, tourist = factory.authority(), factory.tourist()
    camera = factory.engine_key(latitude=place[0], longitude=place[1])
    with clock.frozen(NOW) as now:
        before = _nearby_alerts(client, tourist, NOW, *place)
        assert before["details"].startswith("No alerts")
        now.advance(seconds=5)
        body = _report(client, camera, timestamp=_naive(NOW + timedelta(seconds=5) + clock_ahead, offset_h))
        now.advance(seconds=1)
        after = _nearby_alerts(client, tourist, NOW + timedelta(seconds=6), *place)
    assert after["details"].startswith("1 alert within") and after["score"] < before["score"]

    stored = client.get(f"/incidents/{body['incident_id']}", headers=officer.headers).json()
    received = NOW + timedelta(seconds=5)
    assert datetime.fromisoformat(stored["received_at"]) == received
    assert datetime.fromisoformat(stored["timestamp"]) == received  # the time alerts and scores use
    assert datetime.fromisoformat(stored["reported_timestamp"]) == received + clock_ahead  # kept as sent
    assert stored["clock_skew_s"] == (clock_ahead.total_seconds() or None)
    alert = client.get("/alerts?type=incident", headers=officer.headers).json()[0]
    assert datetime.fromisoformat(alert["timestamp"]) == received


def test_a_skew_within_the_tolerance_is_the_event_time(client: TestClient, factory: Factory) -> None:
    officer, camera = factory.authority(), factory.engine_key(latitude=SPOT[0], longitude=SPOT[1])
    with clock.frozen(NOW):
        body = _report(client, camera, timestamp=(NOW + timedelta(seconds=90)).isoformat())
    stored = client.get(f"/incidents/{body['incident_id']}", headers=officer.headers).json()
    assert datetime.fromisoformat(stored["timestamp"]) == NOW + timedelta(seconds=90)
    assert stored["clock_skew_s"] is None


def test_a_key_without_a_place_reads_naive_times_in_its_own_zone(
    client: TestClient, factory: Factory
) -> None:
    admin, officer = factory.admin(), factory.authority()
    bad = client.post(
        "/admin/keys", json={"name": "phone-x", "timezone": "Mars/Olympus"}, headers=admin.headers
    )
    assert bad.status_code == 422 and "timezone" in bad.text
    created = client.post(
        "/admin/keys", json={"name": "phone-az", "timezone": "America/Phoenix"}, headers=admin.headers
    )
    assert created.status_code == 201, created.text
    assert created.json()["timezone"] == "America/Phoenix"
    key = EngineCredentials(name="phone-az", key=created.json()["key"], key_id=created.json()["id"])
    with clock.frozen(NOW):
        body = _report(client, key, timestamp=_naive(NOW - timedelta(minutes=1), -7))
    stored = client.get(f"/incidents/{body['incident_id']}", headers=officer.headers).json()
    assert datetime.fromisoformat(stored["timestamp"]) == NOW - timedelta(minutes=1)


@pytest.mark.parametrize(
    ("timestamp", "says"),
    [("1999-12-31T23:59:59Z", "before 2000"), ((NOW + timedelta(hours=25)).isoformat(), "ahead")],
)
def test_a_time_before_2000_or_over_a_day_ahead_is_refused_and_nothing_stored(
    client: TestClient, factory: Factory, db: Database, timestamp: str, says: str
) -> None:
    camera = factory.engine_key()
    with clock.frozen(NOW):
        response = client.post(
            "/threats/report", json=report_body(timestamp=timestamp), headers=camera.headers
        )
    assert response.status_code == 422
    (problem,) = response.json()["detail"]
    assert problem["loc"] == ["body", "timestamp"] and says in problem["msg"]
    assert stored_counts(db) == NOTHING_STORED
