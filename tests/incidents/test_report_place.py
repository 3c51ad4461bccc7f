"""Phone incidents have a place: a report without coordinates from a key bound to an owner is placed at the
owner's latest fix when it is recent, and the police message, the map's alert, the nearby warnings and the
safe route use it; otherwise the incident says it has no place."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from safesphere.core import clock
from tests.factories import Factory
from tests.incidents.reports import report_body
from tests.tracking.fixtures import SPOT, send_fix

NOW = datetime(2026, 11, 20, 13, 0, tzinfo=UTC)
NEARBY = (SPOT[0] + 0.002, SPOT[1])
"""About 220 m north of the spot."""


def test_an_owner_bound_phone_report_is_placed_at_the_owners_fix(
    client: TestClient, factory: Factory
) -> None:
    officer, owner, neighbour = factory.authority(), factory.tourist(), factory.tourist()
    station = {"name": "Commissariat 7e", "kind": "police_station", "lat": SPOT[0] - 0.005, "lon": SPOT[1]}
    assert client.post("/places", json=station, headers=officer.headers).status_code == 201
    phone = factory.engine_key(owner=owner)
    with clock.frozen(NOW - timedelta(minutes=2)):
        send_fix(client, owner, NOW - timedelta(minutes=2), accuracy=12.0)
        send_fix(client, neighbour, NOW - timedelta(minutes=2), lat=NEARBY[0], lon=NEARBY[1])
    body = report_body(threat_level="HIGH", is_critical=False, weapon_detected=False, weapon_types=[])
    with clock.frozen(NOW):
        response = client.post("/threats/report", json=body, headers=phone.headers)
    assert response.status_code == 200, response.text

    stored = client.get(f"/incidents/{body['incident_id']}", headers=officer.headers).json()
    assert stored["location_source"] == "owner_last_fix"
    assert stored["location"] == {
        "latitude": SPOT[0], "longitude": SPOT[1], "accuracy_m": 12.0, "source": "owner_last_fix",
        "fix_age_s": 120.0,
    }  # fmt: skip
    police = [a["message"] for a in stored["alerts"] if a["alert_type"] == "police_notification"]
    assert police and all(f"{SPOT[0]:.6f},{SPOT[1]:.6f}" in m for m in police)
    assert not any("unknown location" in a["message"] for a in stored["alerts"])
    on_map = client.get("/alerts?type=incident", headers=officer.headers).json()
    assert [(a["incident_id"], a["location"]) for a in on_map] == [
        (body["incident_id"], {"lat": SPOT[0], "lon": SPOT[1]})
    ]
    warned = client.get("/alerts?type=warning", headers=officer.headers).json()
    assert {a["tourist_id"] for a in warned} == {owner.user.id, neighbour.user.id}
    route = client.get(f"/incidents/{body['incident_id']}/safe-route", headers=officer.headers)
    assert route.status_code == 200 and route.json()["station"]["name"] == "Commissariat 7e"
    safe_route_step = [a for a in stored["actions"] if a["action_type"] == "safe_route"]
    assert all("Commissariat 7e" in (a["result"] or a["description"]) for a in safe_route_step)


def test_a_stale_fix_or_no_owner_leaves_the_incident_unlocated_and_says_so(
    client: TestClient, factory: Factory
) -> None:
    officer, owner = factory.authority(), factory.tourist()
    with clock.frozen(NOW - timedelta(minutes=11)):
        send_fix(client, owner, NOW - timedelta(minutes=11))
    for key in (factory.engine_key(owner=owner), factory.engine_key()):
        body = report_body(threat_level="MEDIUM", is_critical=False, weapon_detected=False, weapon_types=[])
        with clock.frozen(NOW):
            assert client.post("/threats/report", json=body, headers=key.headers).status_code == 200
        stored = client.get(f"/incidents/{body['incident_id']}", headers=officer.headers).json()
        assert (stored["location"], stored["location_source"]) == (None, "none")
    assert client.get("/alerts?type=incident", headers=officer.headers).json() == []
