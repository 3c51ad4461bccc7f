"""The places registry and the safe route to the nearest police station."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from safesphere.core.db import Database
from safesphere.places.models import Place
from tests.factories import Factory
from tests.incidents.reports import report_body

EIFFEL = (48.8584, 2.2945)
STATION_NEAR = {"name": "Commissariat 7e", "kind": "police_station", "lat": 48.8570, "lon": 2.3000}
STATION_FAR = {"name": "Commissariat 15e", "kind": "police_station", "lat": 48.8420, "lon": 2.2990}
HOSPITAL = {"name": "Hôpital Necker", "kind": "hospital", "lat": 48.8462, "lon": 2.3155}


def _count(db: Database) -> int:
    with db.read_session() as session:
        return session.scalar(sa.select(sa.func.count()).select_from(Place)) or 0


def test_authorities_manage_places_and_any_user_reads_them(client: TestClient, factory: Factory) -> None:
    officer, tourist = factory.authority(), factory.tourist()
    assert client.post("/places", json=STATION_NEAR).status_code == 401
    assert client.post("/places", json=STATION_NEAR, headers=tourist.headers).status_code == 403
    created = client.post("/places", json=STATION_NEAR, headers=officer.headers)
    assert created.status_code == 201
    place = created.json()
    assert place["name"] == "Commissariat 7e" and place["kind"] == "police_station"

    listed = client.get("/places?kind=police_station", headers=tourist.headers)
    assert [p["id"] for p in listed.json()] == [place["id"]]
    assert client.get("/places?kind=hospital", headers=tourist.headers).json() == []

    patched = client.patch(
        f"/places/{place['id']}", json={"phone": "+33 1 44 42 50 00"}, headers=officer.headers
    )
    assert patched.json()["phone"] == "+33 1 44 42 50 00"
    assert patched.json()["name"] == "Commissariat 7e"
    assert (
        client.patch(f"/places/{place['id']}", json={"phone": "x"}, headers=tourist.headers).status_code
        == 403
    )

    assert client.delete(f"/places/{place['id']}", headers=officer.headers).status_code == 204
    assert client.get(f"/places/{place['id']}", headers=tourist.headers).json() == {
        "detail": "Place not found"
    }


def test_bad_place_input_names_the_field_and_stores_nothing(
    client: TestClient, factory: Factory, db: Database
) -> None:
    officer = factory.authority()
    for field, value in (("lat", 91), ("lon", -181), ("kind", "bakery"), ("name", "")):
        response = client.post("/places", json={**STATION_NEAR, field: value}, headers=officer.headers)
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["body", field]
    assert _count(db) == 0


def _feature(place: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [place["lon"], place["lat"]]},
        "properties": {"name": place["name"], "kind": place["kind"]},
    }


def test_geojson_import_is_all_or_nothing_and_export_round_trips(
    client: TestClient, factory: Factory, db: Database
) -> None:
    officer = factory.authority()
    bad = {
        "type": "FeatureCollection",
        "features": [_feature(STATION_NEAR), _feature({**HOSPITAL, "lat": 100})],
    }
    rejected = client.post("/places/import", json=bad, headers=officer.headers)
    assert rejected.status_code == 422
    assert rejected.json()["detail"][0]["loc"][:3] == ["body", "features", 1]
    assert _count(db) == 0

    good: dict[str, Any] = {
        "type": "FeatureCollection",
        "features": [_feature(p) for p in (STATION_NEAR, STATION_FAR, HOSPITAL)],
    }
    assert client.post("/places/import", json=good, headers=officer.headers).json() == {"imported": 3}
    exported = client.get("/places/export.geojson", headers=officer.headers).json()
    assert exported["type"] == "FeatureCollection"
    assert [f["geometry"]["coordinates"] for f in exported["features"]] == [
        f["geometry"]["coordinates"] for f in good["features"]
    ]
    assert [f["properties"]["kind"] for f in exported["features"]] == [
        "police_station",
        "police_station",
        "hospital",
    ]


def test_safe_route_without_a_routing_service_is_the_straight_line_to_the_nearest_station(
    client: TestClient, factory: Factory
) -> None:
    officer, tourist = factory.authority(), factory.tourist()
    missing = client.get(f"/places/safe-route?lat={EIFFEL[0]}&lon={EIFFEL[1]}", headers=tourist.headers)
    assert missing.status_code == 404
    for place in (STATION_FAR, HOSPITAL, STATION_NEAR):
        client.post("/places", json=place, headers=officer.headers)

    route = client.get(f"/places/safe-route?lat={EIFFEL[0]}&lon={EIFFEL[1]}", headers=tourist.headers).json()
    assert route["station"]["name"] == "Commissariat 7e"
    assert route["distance_km"] == pytest.approx(0.435, abs=0.005)
    assert route["direction"] == "east"  # the station is east-south-east of the tower
    assert 95 < route["bearing_deg"] < 125
    assert route["walking_minutes"] == pytest.approx(0.435 * 1000 / 1.4 / 60, abs=0.2)
    assert route["route"]["source"] == "straight_line"
    assert route["route"]["geometry"]["coordinates"] == [[EIFFEL[1], EIFFEL[0]], [2.3, 48.857]]


class _OsrmHandler(BaseHTTPRequestHandler):
    """Answers like OSRM's /route/v1/foot service and records the paths it was asked for."""

    requests: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        type(self).requests.append(self.path)
        body = {
            "code": "Ok",
            "routes": [
                {
                    "distance": 612.4,
                    "duration": 441.0,
                    "geometry": {
                        "type": "LineString",
                        "coordinates": [[2.2945, 48.8584], [2.297, 48.858], [2.3, 48.857]],
                    },
                }
            ],
        }
        payload = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *_: object) -> None:
        return


@pytest.fixture
def osrm_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _OsrmHandler)
    _OsrmHandler.requests.clear()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def settings_overrides(request: pytest.FixtureRequest) -> dict[str, object]:
    if "osrm_server" in request.fixturenames:
        return {"routing_url": request.getfixturevalue("osrm_server")}
    if "dead_routing_url" in request.node.name:
        return {"routing_url": "http://127.0.0.1:9", "routing_timeout_s": 1.0}
    return {}


def test_safe_route_uses_the_routing_service_when_configured(
    osrm_server: str, client: TestClient, factory: Factory
) -> None:
    officer = factory.authority()
    client.post("/places", json=STATION_NEAR, headers=officer.headers)
    route = client.get(f"/places/safe-route?lat={EIFFEL[0]}&lon={EIFFEL[1]}", headers=officer.headers).json()
    assert route["route"]["source"] == "osrm"
    assert route["route"]["distance_km"] == 0.612
    assert route["walking_minutes"] == pytest.approx(441.0 / 60, abs=0.05)
    assert len(route["route"]["geometry"]["coordinates"]) == 3
    assert _OsrmHandler.requests[0].startswith(f"/route/v1/foot/{EIFFEL[1]},{EIFFEL[0]};2.3,48.857")


def test_safe_route_falls_back_to_the_straight_line_with_a_dead_routing_url(
    client: TestClient, factory: Factory
) -> None:
    officer = factory.authority()
    client.post("/places", json=STATION_NEAR, headers=officer.headers)
    route = client.get(f"/places/safe-route?lat={EIFFEL[0]}&lon={EIFFEL[1]}", headers=officer.headers).json()
    assert route["route"]["source"] == "straight_line"


def test_nearest_station_is_found_far_away_and_across_search_rings(
    client: TestClient, factory: Factory
) -> None:
    officer = factory.authority()
    versailles = {"name": "Commissariat Versailles", "kind": "police_station", "lat": 48.8049, "lon": 2.1204}
    lyon = {"name": "Hôtel de Police Lyon", "kind": "police_station", "lat": 45.7578, "lon": 4.8320}
    for place in (lyon, versailles):
        client.post("/places", json=place, headers=officer.headers)
    route = client.get(f"/places/safe-route?lat={EIFFEL[0]}&lon={EIFFEL[1]}", headers=officer.headers).json()
    assert route["station"]["name"] == "Commissariat Versailles"
    assert route["distance_km"] == pytest.approx(13.9, abs=0.2)
    assert route["direction"] == "south-west"
    # From far out at sea only the unbounded search finds anything.
    far = client.get("/places/safe-route?lat=40.0&lon=-30.0", headers=officer.headers).json()
    assert far["station"]["name"] == "Commissariat Versailles"


def test_an_incident_s_safe_route_starts_where_the_protected_person_is(
    client: TestClient, factory: Factory
) -> None:
    officer, owner = factory.authority(), factory.tourist()
    assert client.post("/places", json=STATION_NEAR, headers=officer.headers).status_code == 201
    assert client.post("/places", json=STATION_FAR, headers=officer.headers).status_code == 201
    fix = {"lat": 48.8584, "lon": 2.2945, "speed": 1.0, "accuracy": 5.0, "timestamp": "2026-02-10T14:30:00Z"}
    assert client.post("/location/update", json=fix, headers=owner.headers).status_code == 200
    body = report_body()  # CRITICAL: its protocol has the safe_route step
    assert (
        client.post("/threats/report", json=body, headers=factory.engine_key(owner=owner).headers).status_code
        == 200
    )

    route = client.get(f"/incidents/{body['incident_id']}/safe-route", headers=officer.headers)
    assert route.status_code == 200, route.text
    assert route.json()["station"]["name"] == "Commissariat 7e"
    incident = client.get(f"/incidents/{body['incident_id']}", headers=officer.headers).json()
    step = next(a for a in incident["actions"] if a["action_type"] == "safe_route")
    assert step["result"].startswith("Nearest police station 'Commissariat 7e': 0.4 km east")
    unlocated = report_body()
    assert (
        client.post("/threats/report", json=unlocated, headers=factory.engine_key().headers).status_code
        == 200
    )
    assert (
        client.get(f"/incidents/{unlocated['incident_id']}/safe-route", headers=officer.headers).status_code
        == 404
    )
