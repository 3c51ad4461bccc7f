"""The tourist endpoints issue a fixed number of SQL statements, however much data surrounds the tourist."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from safesphere.alerts.models import Alert
from safesphere.auth.models import User
from safesphere.core import clock
from safesphere.core.config import Settings
from safesphere.core.db import Database
from safesphere.tracking.models import LocationFix, TouristStatus
from safesphere.zones.models import Zone
from tests.factories import Factory
from tests.support.statements import counting
from tests.tracking.fixtures import SPOT, fix_body

SMALL = {"alerts": 3, "zones": 2, "tourists": 2}
LARGE = {"alerts": 400, "zones": 150, "tourists": 80}


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    """No background task may query while a request's statements are counted (the escalation pass
    polls every second by default and once landed inside a count)."""
    return {"escalation_rounds": 0, "rescore_interval_s": 0}


EXPECTED_STATEMENTS = {"update": 8, "analysis": 8, "nearby": 4, "trend": 2}
"""Each endpoint's statements, the user lookup included. A location update: the user, the zone index's
version, alerts around, recent movement, crowd, 30-day average, INSERT of the fix, upsert of the
tourist's status. Transaction starts are not counted: SQLite's are SQL (BEGIN, BEGIN IMMEDIATE, one per
session), PostgreSQL's are not."""
ZONE_VERSION_READERS = ("update", "analysis", "nearby")
"""The endpoints that ask the zone index, which reads its version unless announcements vouch for it."""


def _expected(client: TestClient, settings: Settings) -> dict[str, int]:
    """On PostgreSQL the process listens for other instances' changes (core/announcements.py); once it
    listens, the zone index skips its version query. Wait for that, so the count never depends on how
    fast the listener connected, and expect one statement fewer where the index is asked."""
    if settings.is_sqlite:
        return dict(EXPECTED_STATEMENTS)
    announcements = client.app.state.announcements  # type: ignore[attr-defined]
    deadline = time.monotonic() + 10
    while not announcements.listening and time.monotonic() < deadline:
        time.sleep(0.05)
    assert announcements.listening, "the PostgreSQL listener never connected"
    return {name: n - (name in ZONE_VERSION_READERS) for name, n in EXPECTED_STATEMENTS.items()}


def _near(rng: random.Random, spread_deg: float) -> tuple[float, float]:
    return SPOT[0] + rng.uniform(-spread_deg, spread_deg), SPOT[1] + rng.uniform(-spread_deg, spread_deg)


def _populate(db: Database, *, alerts: int, zones: int, tourists: int, batch: str) -> None:
    """Alerts, zones and other tourists all around the spot, most of them close enough to matter."""
    rng = random.Random(batch)
    now = clock.now()
    with db.session() as session:
        for n in range(alerts):
            lat, lon = _near(rng, 0.02)
            session.add(
                Alert(
                    type="incident",
                    severity=rng.choice(("low", "medium", "high", "critical")),
                    title=f"Alert {n}",
                    description="seeded",
                    latitude=lat,
                    longitude=lon,
                    occurred_at=now - timedelta(minutes=rng.randint(1, 60 * 24 * 20)),
                )
            )
        for n in range(zones):
            lat, lon = _near(rng, 0.05)
            session.add(
                Zone(
                    name=f"Zone {n}",
                    type=rng.choice(("restricted", "risky", "safe")),
                    center_lat=lat,
                    center_lon=lon,
                    radius_km=rng.uniform(0.05, 0.3),
                )
            )
        for n in range(tourists):
            user = User(email=f"crowd-{batch}-{n}@example.com", password_hash="not-a-login", role="tourist")
            session.add(user)
            session.flush()
            lat, lon = _near(rng, 0.008)
            seen = now - timedelta(minutes=rng.randint(0, 25))
            fix = LocationFix(
                tourist_id=user.id, latitude=lat, longitude=lon, timestamp=seen, safety_score=70.0
            )
            session.add(fix)
            session.flush()
            session.add(
                TouristStatus(
                    tourist_id=user.id,
                    last_fix_id=fix.id,
                    latitude=lat,
                    longitude=lon,
                    last_seen=seen,
                    location_safety_score=70.0,
                    tourist_safety_score=70.0,
                    risk_level="medium",
                )
            )
        session.commit()


def _statements_per_request(client: TestClient, factory: Factory, db: Database) -> dict[str, int]:
    """A new tourist's first fix warms up (zone index), then each endpoint's statements are counted."""
    tourist = factory.tourist()
    now = clock.now()
    warm_up = client.post(
        "/location/update", json=fix_body(now - timedelta(minutes=2)), headers=tourist.headers
    )
    assert warm_up.status_code == 200, warm_up.text

    requests: dict[str, Callable[[], Any]] = {
        "update": lambda: client.post("/location/update", json=fix_body(now), headers=tourist.headers),
        "analysis": lambda: client.get("/location/safety-analysis", headers=tourist.headers),
        "nearby": lambda: client.get("/location/nearby-risks?radius_km=5", headers=tourist.headers),
        "trend": lambda: client.get("/location/safety-trend", headers=tourist.headers),
    }
    counts = {}
    for name, send in requests.items():
        with counting(db) as statements:
            response = send()
        assert response.status_code == 200, response.text
        counts[name] = len(statements)
    return counts


def test_statement_counts_do_not_grow_with_the_data(
    client: TestClient, factory: Factory, db: Database, settings: Settings
) -> None:
    expected = _expected(client, settings)
    _populate(db, **SMALL, batch="small")
    small = _statements_per_request(client, factory, db)
    _populate(db, **LARGE, batch="large")
    large = _statements_per_request(client, factory, db)

    assert small == expected
    assert large == small
