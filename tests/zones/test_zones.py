"""Zones: circles and polygons, validation, GeoJSON import/export, and the index seeing changes at once."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from fastapi.testclient import TestClient

from safesphere.core import clock
from safesphere.core.db import Database
from safesphere.zones.models import Zone
from safesphere.zones.spatial_index import ZoneIndex
from tests.factories import Factory
from tests.tracking.fixtures import SPOT, factors_by_name, send_fix

SQUARE = {
    "type": "Polygon",
    "coordinates": [[[2.29, 48.855], [2.30, 48.855], [2.30, 48.862], [2.29, 48.862], [2.29, 48.855]]],
}


def _count(db: Database) -> int:
    with db.read_session() as session:
        return session.scalar(sa.select(sa.func.count()).select_from(Zone)) or 0


def test_circle_and_polygon_zones_crud(client: TestClient, factory: Factory) -> None:
    officer = factory.authority()
    circle = client.post(
        "/zones",
        json={"name": "Park", "type": "safe", "center": {"lat": 48.85, "lon": 2.3}, "radius_km": 0.4},
        headers=officer.headers,
    ).json()
    polygon = client.post(
        "/zones", json={"name": "Works", "type": "restricted", "polygon": SQUARE}, headers=officer.headers
    )
    assert polygon.status_code == 201
    body = polygon.json()
    assert body["polygon"] == SQUARE
    assert abs(body["center"]["lat"] - 48.8585) < 1e-6 and abs(body["center"]["lon"] - 2.295) < 1e-6
    assert [z["name"] for z in client.get("/zones?type=restricted", headers=officer.headers).json()] == [
        "Works"
    ]
    patched = client.patch(
        f"/zones/{circle['id']}", json={"type": "risky", "radius_km": 1.0}, headers=officer.headers
    )
    assert patched.json()["type"] == "risky" and patched.json()["radius_km"] == 1.0
    assert client.delete(f"/zones/{circle['id']}", headers=officer.headers).status_code == 204
    assert client.get(f"/zones/{circle['id']}", headers=officer.headers).json() == {
        "detail": "Zone not found"
    }


def test_bad_zones_are_rejected_and_nothing_is_stored(
    client: TestClient, factory: Factory, db: Database
) -> None:
    officer = factory.authority()
    bowtie = {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}
    cases = [
        {"name": "x", "type": "dangerous", "center": {"lat": 1, "lon": 1}, "radius_km": 1},
        {"name": "x", "type": "risky", "center": {"lat": 91, "lon": 1}, "radius_km": 1},
        {"name": "x", "type": "risky", "center": {"lat": 1, "lon": 1}},
        {"name": "x", "type": "risky", "center": {"lat": 1, "lon": 1}, "radius_km": 0},
        {"name": "x", "type": "risky", "polygon": bowtie},
        {"name": "x", "type": "risky", "polygon": SQUARE, "radius_km": 1, "center": {"lat": 1, "lon": 1}},
    ]
    for body in cases:
        response = client.post("/zones", json=body, headers=officer.headers)
        assert response.status_code == 422, body
    assert client.post("/zones", json=cases[0], headers=factory.tourist().headers).status_code == 403
    assert _count(db) == 0


def test_geojson_import_export_round_trip_all_or_nothing(
    client: TestClient, factory: Factory, db: Database
) -> None:
    officer = factory.authority()
    features = [
        {"type": "Feature", "geometry": SQUARE, "properties": {"name": "Works", "type": "restricted"}},
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [2.3, 48.85]},
            "properties": {"name": "Park", "type": "safe", "radius_km": 0.4},
        },
    ]
    broken = [
        *features,
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [2.3, 48.85]},
            "properties": {"name": "No radius", "type": "risky"},
        },
    ]
    rejected = client.post(
        "/zones/import", json={"type": "FeatureCollection", "features": broken}, headers=officer.headers
    )
    assert rejected.status_code == 422
    assert rejected.json()["detail"][0]["loc"][:3] == ["body", "features", 2]
    assert _count(db) == 0
    imported = client.post(
        "/zones/import", json={"type": "FeatureCollection", "features": features}, headers=officer.headers
    )
    assert imported.json() == {"imported": 2}
    exported = client.get("/zones/export.geojson", headers=officer.headers).json()
    assert [f["geometry"] for f in exported["features"]] == [f["geometry"] for f in features]
    assert exported["features"][1]["properties"] == {"name": "Park", "type": "safe", "radius_km": 0.4}


def test_a_new_zone_changes_the_next_score_at_once(client: TestClient, factory: Factory) -> None:
    officer, tourist = factory.authority(), factory.tourist()
    now = datetime(2026, 11, 20, 13, 0, tzinfo=UTC)
    with clock.frozen(now):
        before = send_fix(client, tourist, now)
        client.post(
            "/zones", json={"name": "Works", "type": "restricted", "polygon": SQUARE}, headers=officer.headers
        )
        inside = send_fix(client, tourist, now)
        zone_id = client.get("/zones", headers=officer.headers).json()[0]["id"]
        client.delete(f"/zones/{zone_id}", headers=officer.headers)
        after = send_fix(client, tourist, now)
    assert factors_by_name(before)["zone_risk"]["score"] == 80.0
    assert factors_by_name(inside)["zone_risk"]["details"] == "Inside restricted zone 'Works'"
    assert factors_by_name(after)["zone_risk"]["score"] == 80.0
    assert SPOT  # the fixes stand inside SQUARE


RACING_READERS = 8
MANY_ZONES = 2000
"""Enough that one reload takes long enough for every racing reader to arrive while it runs."""


def test_readers_racing_after_a_zone_change_reload_the_index_once(db: Database) -> None:
    with db.session() as session:
        session.execute(
            sa.insert(Zone),
            [
                {"name": f"Zone {n}", "type": "risky", "center_lat": 48.80 + n * 1e-4, "center_lon": 2.3,
                 "radius_km": 0.1}
                for n in range(MANY_ZONES)
            ],
        )  # fmt: skip
        session.commit()
    index = ZoneIndex()
    loads: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "FROM zones ORDER BY" in statement:
            loads.append(statement)

    start = threading.Barrier(RACING_READERS)

    def refresh(_: int) -> None:
        with db.read_session() as session:
            start.wait()
            index.refresh_if_changed(session)

    sa.event.listen(db.read_engine, "before_cursor_execute", record)
    try:
        with ThreadPoolExecutor(max_workers=RACING_READERS) as pool:
            list(pool.map(refresh, range(RACING_READERS)))
    finally:
        sa.event.remove(db.read_engine, "before_cursor_execute", record)

    assert len(loads) == 1
    assert index.near(48.80, 2.3, 0.05)[0].zone.name == "Zone 0"  # the index serves the loaded zones
