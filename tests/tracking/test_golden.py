"""Golden scenarios with exact factor scores, through the real API (incidents from real camera reports)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from safesphere.core import clock
from safesphere.core.config import Settings
from safesphere.core.db import Database
from safesphere.tracking.rescoring.service import update_location_safety_scores
from safesphere.zones.geometry import relation
from safesphere.zones.spatial_index import Nearby, ZoneIndex
from tests.factories import Factory
from tests.tracking.fixtures import (
    MINUTE,
    SPOT,
    camera_sees_threat,
    factors_by_name,
    restricted_zone_here,
    send_fix,
)

LATE_EVENING = datetime(2026, 11, 20, 22, 30, tzinfo=UTC)  # 23:30 in Paris
NOON = datetime(2026, 11, 20, 11, 0, tzinfo=UTC)  # 12:00 in Paris


def test_inside_a_restricted_zone_at_2330_near_two_fresh_critical_alerts(
    client: TestClient, factory: Factory
) -> None:
    officer, tourist = factory.authority(), factory.tourist()
    restricted_zone_here(client, officer)
    with clock.frozen(LATE_EVENING + MINUTE):
        camera_sees_threat(client, factory, LATE_EVENING - 36 * MINUTE)
        camera_sees_threat(client, factory, LATE_EVENING - 36 * MINUTE)
        body = send_fix(client, tourist, LATE_EVENING)

    factors = factors_by_name(body)
    assert {name: f["score"] for name, f in factors.items()} == {
        "nearby_alerts": 24.0,  # 100 - 2 x 40 (critical) x 1.0 (at the spot) x 0.95 (36 of 360 minutes old)
        "zone_risk": 10.0,  # inside a restricted zone
        "time_of_day": 35.0,  # late night, 23:30 local
        "crowd_density": 40.0,  # nobody else around
        "speed_anomaly": 100.0,  # walking pace, first fix
        "historical_risk": 70.0,  # 100 - 2 x 15 (critical) at the spot
    }
    assert factors["time_of_day"]["details"] == "Late night (23:30 local) - highest-risk period"
    assert factors["zone_risk"]["details"] == "Inside restricted zone 'Construction Site'"
    assert factors["nearby_alerts"]["contribution"] == 7.2
    assert body["location_safety_score"] == 35.95
    assert body["tourist_safety_score"] == 35.95  # the first fix is the location score alone
    assert body["risk_level"] == "critical"
    assert body["alert_triggered"] is True and isinstance(body["alert_id"], int)
    recommendations = body["ai_analysis"]["recommendations"]
    assert recommendations[0] == "Leave the restricted zone 'Construction Site' now"
    assert recommendations[-1] == "Keep emergency contacts readily accessible"


def test_the_same_spot_at_noon_with_twenty_tourists_around(client: TestClient, factory: Factory) -> None:
    officer, tourist = factory.authority(), factory.tourist()
    restricted_zone_here(client, officer)
    with clock.frozen(NOON + MINUTE):
        for i in range(20):
            send_fix(
                client, factory.tourist(), NOON - (i + 1) * MINUTE, lat=SPOT[0] + 0.001 * (i % 5), lon=SPOT[1]
            )
        body = send_fix(client, tourist, NOON)

    assert {name: f["score"] for name, f in factors_by_name(body).items()} == {
        "nearby_alerts": 100.0,
        "zone_risk": 10.0,
        "time_of_day": 90.0,
        "crowd_density": 100.0,
        "speed_anomaly": 100.0,
        "historical_risk": 100.0,
    }
    assert factors_by_name(body)["crowd_density"]["details"] == "20 tourists within 1km"
    assert factors_by_name(body)["time_of_day"]["details"] == "Daytime (12:00 local) - safer period"
    assert body["location_safety_score"] == 76.0
    assert body["risk_level"] == "medium"
    assert body["alert_triggered"] is False and body["alert_id"] is None


def test_an_old_fix_rescored_after_newer_alerts_does_not_see_them(
    client: TestClient, factory: Factory, db: Database, settings: Settings
) -> None:
    tourist = factory.tourist()
    with clock.frozen(NOON + MINUTE):
        old = send_fix(client, tourist, NOON)
    assert factors_by_name(old)["nearby_alerts"]["score"] == 100.0
    later = NOON + timedelta(hours=1)
    with clock.frozen(later + MINUTE):
        camera_sees_threat(client, factory, later)
        camera_sees_threat(client, factory, later)
        rescored = update_location_safety_scores(
            database=db, settings=settings, zone_index=ZoneIndex(), hours_back=24
        )
        new = send_fix(client, tourist, later + 5 * MINUTE)
        history = client.get("/location/history", headers=tourist.headers).json()

    assert rescored == 1
    assert history[1]["id"] == old["location_id"]
    assert history[1]["safety_score"] == old["location_safety_score"]  # the future stayed unseen
    assert history[1]["safety_score_updated_at"].startswith("2026-11-20T12:01")  # rescored at the later time
    assert factors_by_name(new)["nearby_alerts"]["score"] == pytest.approx(
        100 - 2 * 40 * 1.0 * (1 - 0.5 * 5 / 360), abs=0.01
    )
    # 0.7 x this location + 0.3 x the average of the earlier fix
    assert new["tourist_safety_score"] == pytest.approx(
        0.7 * new["location_safety_score"] + 0.3 * old["location_safety_score"], abs=0.01
    )


def test_rescoring_never_counts_a_threat_received_after_the_fix_even_if_it_happened_before(
    client: TestClient, factory: Factory, db: Database, settings: Settings
) -> None:
    """No look-ahead by receipt time (issue 14 item 3): an engine's offline spool delivers, 20 minutes
    later, a threat seen 10 minutes before the fix. The fix was scored with what the server knew when it
    arrived, and rescoring keeps it so; the tourist's next fix counts the threat."""
    tourist = factory.tourist()
    with clock.frozen(NOON + MINUTE):
        fix = send_fix(client, tourist, NOON)
    later = NOON + 20 * MINUTE
    with clock.frozen(later):
        camera_sees_threat(client, factory, NOON - 10 * MINUTE)
        rescored = update_location_safety_scores(
            database=db, settings=settings, zone_index=ZoneIndex(), hours_back=24
        )
        history = client.get("/location/history", headers=tourist.headers).json()
        after = send_fix(client, tourist, later)

    assert rescored == 1
    assert history[0]["id"] == fix["location_id"]
    assert history[0]["safety_score"] == fix["location_safety_score"]
    assert factors_by_name(after)["nearby_alerts"]["score"] < 100.0


def test_the_zone_index_measures_every_zone_exactly_as_the_zone_geometry_does(
    client: TestClient, factory: Factory, db: Database
) -> None:
    """``near`` measures circles and polygons its own faster way; the numbers stay those of ``relation``
    (inside, distance to the edge, bearing), for zones around, under and far from the point."""
    officer = factory.authority()
    rng = random.Random(7)
    for n in range(60):
        lat, lon = SPOT[0] + rng.uniform(-0.04, 0.04), SPOT[1] + rng.uniform(-0.04, 0.04)
        half = rng.uniform(0.0005, 0.004)
        body: dict[str, Any] = {"name": f"Zone {n}", "type": rng.choice(("safe", "risky", "restricted"))}
        if n % 2:
            ring = [
                [lon - half, lat - half],
                [lon + half, lat - half],
                [lon, lat + half],
                [lon - half, lat - half],
            ]
            body["polygon"] = {"type": "Polygon", "coordinates": [ring]}
        else:
            body |= {"center": {"lat": lat, "lon": lon}, "radius_km": rng.uniform(0.05, 0.5)}
        assert client.post("/zones", json=body, headers=officer.headers).status_code == 201, body
    index = ZoneIndex()
    with db.read_session() as session:
        index.refresh_if_changed(session)
    shapes = {z.zone_id: z for z in (n.zone for n in index.near(SPOT[0], SPOT[1], 50.0))}
    assert len(shapes) == 60
    for lat, lon, radius_km in [(SPOT[0], SPOT[1], 3.0), (SPOT[0] + 0.01, SPOT[1] - 0.02, 1.0)] + [
        (SPOT[0] + rng.uniform(-0.05, 0.05), SPOT[1] + rng.uniform(-0.05, 0.05), rng.uniform(0.1, 4))
        for _ in range(40)
    ]:
        expected = []
        for zone in shapes.values():
            inside, distance, bearing = relation(zone, lat, lon)
            if inside or distance <= radius_km:
                expected.append(Nearby(zone, inside, distance, bearing))
        expected.sort(key=lambda n: (n.distance_km, n.zone.zone_id))
        assert index.near(lat, lon, radius_km) == expected
    triangle = next(z for z in shapes.values() if z.polygon is not None)
    under = index.near(triangle.center_lat, triangle.center_lon, 0.1)  # its centroid is inside it
    assert Nearby(triangle, True, 0.0, None) in under
