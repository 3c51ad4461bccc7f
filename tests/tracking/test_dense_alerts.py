"""A fix in a busy district, with dozens of alerts around it, has its two alert factors computed over
arrays (``scoring.alert_arrays``); the whole assessment equals, exactly, what the factors' own loop makes
of the same alerts."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from safesphere.alerts.models import Alert
from safesphere.core.config import Settings
from safesphere.core.db import Database
from safesphere.scoring.assessment import assess
from safesphere.scoring.model import Fix
from safesphere.tracking import assessor, repository
from safesphere.zones.spatial_index import ZoneIndex
from tests.tracking.fixtures import SPOT

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
SPREAD_DEG = 0.012
"""About 1.3 km around the spot: most alerts fall inside the factors' radii, some just outside."""


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"rescore_interval_s": 0}


def _busy_district(db: Database, rng: random.Random, count: int) -> None:
    """Mostly low-severity alerts (so the penalties add up to a score between 0 and 100, where every term
    shows), some worse ones, over the last 30 days, many in the last hours and some resolved."""
    with db.session() as session:
        for n in range(count):
            recent = rng.random() < 0.5
            occurred = NOW - timedelta(minutes=rng.uniform(0, 360) if recent else rng.uniform(0, 43_000))
            status = rng.choice(("open", "open", "acknowledged", "resolved"))
            session.add(
                Alert(type=rng.choice(("incident", "sos", "anomaly")),
                      severity=rng.choice(("low",) * 12 + ("medium", "high")),
                      title=f"Alert {n}", description="busy district",
                      latitude=SPOT[0] + rng.uniform(-SPREAD_DEG, SPREAD_DEG),
                      longitude=SPOT[1] + rng.uniform(-SPREAD_DEG, SPREAD_DEG) * 1.5,
                      occurred_at=occurred, created_at=occurred, status=status,
                      resolved_at=occurred + timedelta(minutes=30) if status == "resolved" else None)
            )  # fmt: skip
        session.commit()


def test_many_alerts_around_a_fix_score_exactly_as_the_factors_loop_scores_them(
    db: Database, settings: Settings
) -> None:
    rng = random.Random(5)
    _busy_district(db, rng, count=60)
    zone_index = ZoneIndex()
    by_arrays, between = 0, 0
    with db.read_session() as session:
        zone_index.refresh_if_changed(session)
        for n in range(40):
            tourist_id = -1 - n  # nobody's own alerts
            fix = Fix(
                SPOT[0] + rng.uniform(-SPREAD_DEG, SPREAD_DEG) / 2,
                SPOT[1] + rng.uniform(-SPREAD_DEG, SPREAD_DEG) / 2,
                NOW - timedelta(minutes=rng.uniform(0, 90)),
                rng.choice((None, 1.4)),
                10.0,
            )
            nearby, history = repository.alerts_around(
                session,
                lat=fix.lat,
                lon=fix.lon,
                at=fix.timestamp,
                received=NOW,
                skew_tolerance_s=settings.clock_skew_tolerance_s,
            )
            by_arrays += len(history) >= assessor.ARRAYS_FROM and len(nearby) >= assessor.ARRAYS_FROM
            scored = assessor.score_fix(
                session=session,
                settings=settings,
                zone_index=zone_index,
                tourist_id=tourist_id,
                fix=fix,
                received_at=NOW,
            )
            with_lists = replace(
                scored.data,
                nearby_alerts=assessor.alert_observations(nearby),
                historical_alerts=assessor.alert_observations(history),
            )
            by_the_loop = assess(with_lists, settings.scoring_weights)
            assert scored.assessment == by_the_loop, n
            alert_scores = [
                f.score for f in scored.assessment.factors if "alert" in f.name or "hist" in f.name
            ]
            between += all(0 < score < 100 for score in alert_scores)
    assert by_arrays >= 30  # the arrays scored these fixes
    assert between >= 30  # and their every term counted: no score was clamped at 0 or 100
