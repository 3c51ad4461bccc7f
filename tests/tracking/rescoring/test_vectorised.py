"""The vectorised assessment of a whole batch (``scoring.batch.assess`` over what ``rescoring.batch`` reads)
gives every fix exactly what the scalar path (``assessor.score_fix`` → ``scoring.assess``) gives it alone:
the same location score, level, factors (score, weight, contribution, details) and facts (the advice's
inputs), and the same stored factor JSON, character for character (as the JSON column writes it). On a
real database, with a varied city (``test_service.build``) plus the edge cases one by one: no alert
anywhere near, polygon and circle zones (inside, approaching, overlapping, restricted, risky, safe), day,
twilight and night in three time zones, an implausible jump, an airliner, a vehicle, a sudden stop in the
dark inside a restricted zone, and fixes with no, zero and very bad accuracy."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from safesphere.auth.models import User
from safesphere.core import clock, jsoncodec
from safesphere.core.config import Settings
from safesphere.core.db import Database
from safesphere.scoring import batch as batch_scoring
from safesphere.scoring.model import Fix
from safesphere.tracking.assessor import ScoredFix, score_fix
from safesphere.tracking.models import LocationFix
from safesphere.tracking.rescoring.alerts import RecentAlerts
from safesphere.tracking.rescoring.batch import RunData, next_batch
from safesphere.tracking.rescoring.service import factor_rows_json
from safesphere.tracking.rescoring.timeline import HELD_BEFORE_START, RecentFixes
from safesphere.tracking.service import factor_rows
from safesphere.zones.models import Zone
from safesphere.zones.spatial_index import ZoneIndex
from tests.tracking.fixtures import SPOT
from tests.tracking.rescoring.test_service import NOW, build

TOKYO = (35.6895, 139.6917)
"""Asia/Tokyo (UTC+9): in the small hours while Paris has its evening."""
KYIV_ROAD = (50.30, 30.40)
"""A road in Europe/Kyiv with a restricted zone, far from the city."""
HOURS_BACK = 30.0
"""Wide enough for the edge-case fixes spread over the last day (daylight, twilight, night)."""


def _square(lat: float, lon: float, half: float) -> dict[str, object]:
    ring = [
        [lon - half, lat - half],
        [lon + half, lat - half],
        [lon + half, lat + half],
        [lon - half, lat + half],
    ]
    return {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}


def _edge_cases(db: Database) -> None:
    """Tourists whose fixes each exercise one branch of a factor."""
    with db.session() as session:
        users = [User(email=f"edge-{n}@example.com", password_hash="!", role="tourist") for n in range(5)]
        session.add_all(users)
        session.flush()
        walker, flyer, driver, far, stopper = (u.id for u in users)
        session.add_all([
            Zone(name="Quay 'north'", type="restricted", center_lat=SPOT[0] + 0.03, center_lon=SPOT[1],
                 radius_km=0.15, polygon=_square(SPOT[0] + 0.03, SPOT[1], 0.002)),
            Zone(name="Pier", type="restricted", center_lat=SPOT[0] + 0.03, center_lon=SPOT[1],
                 radius_km=0.1),  # overlaps the quay: standing in both, the lower id decides
            Zone(name="Depot", type="risky", center_lat=SPOT[0] + 0.03, center_lon=SPOT[1] + 0.01,
                 radius_km=0.3),
            Zone(name="Checkpoint", type="restricted", center_lat=KYIV_ROAD[0], center_lon=KYIV_ROAD[1],
                 radius_km=0.4),
        ])  # fmt: skip

        def fix(tourist: int, at: datetime, lat: float, lon: float, **extra: object) -> LocationFix:
            values: dict[str, object] = {"speed": 1.0, "accuracy": 10.0, "altitude": 35.0} | extra
            return LocationFix(tourist_id=tourist, latitude=lat, longitude=lon, timestamp=at,
                               created_at=at + timedelta(seconds=2), **values)  # fmt: skip

        rows = []
        for hours in (
            0.2,
            2.5,
            6.0,
            9.0,
            13.0,
            16.5,
            20.0,
            23.5,
            27.0,
        ):  # day, dusk, night in Paris and Tokyo
            at = NOW - timedelta(hours=hours)
            rows.append(fix(walker, at, SPOT[0] + 0.03, SPOT[1], accuracy=None))  # inside the polygon
            rows.append(fix(walker, at + timedelta(minutes=1), SPOT[0] + 0.036, SPOT[1], accuracy=0.0))
            rows.append(
                fix(walker, at + timedelta(minutes=2), SPOT[0] + 0.03, SPOT[1] + 0.0105, accuracy=5000.0)
            )  # inside the circle, accuracy useless
            rows.append(fix(far, at, TOKYO[0], TOKYO[1], speed=None, altitude=None))  # no alert, no zone
        for minutes in range(0, 50, 10):  # 200 km/h on a road, then the same at 10 km altitude
            at = NOW - timedelta(hours=5, minutes=50 - minutes)
            rows.append(fix(driver, at, KYIV_ROAD[0] + 0.0165 * minutes / 10, KYIV_ROAD[1], speed=55.0))
            rows.append(fix(flyer, at, 40.0 + 0.75 * minutes / 10, -30.0, speed=250.0, altitude=10_000.0))
        rows.append(fix(flyer, NOW - timedelta(hours=5), 10.0, -30.0, speed=0.0, altitude=10.0))  # a jump
        rows.append(fix(driver, NOW - timedelta(hours=5), KYIV_ROAD[0] + 0.1, KYIV_ROAD[1], speed=90.0))
        for minutes in range(0, 40, 10):  # at vehicle speed into the checkpoint, then stopped there at night
            at = NOW - timedelta(hours=1, minutes=40 - minutes)
            rows.append(fix(stopper, at, KYIV_ROAD[0] - 0.03 + 0.01 * minutes / 10, KYIV_ROAD[1], speed=18.0))
        rows.append(fix(stopper, NOW - timedelta(hours=1), KYIV_ROAD[0], KYIV_ROAD[1], speed=0.1))
        session.add_all(rows)
        session.commit()


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    """No background task writes or queries while the test compares."""
    return {"escalation_rounds": 0, "rescore_interval_s": 0}


@pytest.mark.parametrize("seed", [1, 2])
def test_vectorised_batch_assessment_equals_the_scalar_one_fix_by_fix(
    db: Database, settings: Settings, seed: int
) -> None:
    build(db, seed=seed)
    _edge_cases(db)
    zone_index = ZoneIndex()
    with clock.frozen(NOW + timedelta(minutes=1)), db.read_session() as session:
        since = clock.now() - timedelta(hours=HOURS_BACK)
        run = RunData(RecentFixes(since - HELD_BEFORE_START), RecentAlerts(since), zone_index,
                      skew_tolerance_s=settings.clock_skew_tolerance_s,
                      max_ground_speed_mps=settings.max_ground_speed_kmh / 3.6)  # fmt: skip
        zone_index.refresh_if_changed(session)
        batch = next_batch(session, run=run, since=since, after_id=0, size=100_000)
        assert batch is not None
        assessed = batch_scoring.assess(batch.scoring, settings.scoring_weights)
        stored = {
            f.id: f for f in session.scalars(sa.select(LocationFix).where(LocationFix.timestamp >= since))
        }
        scalar = []
        for held in batch.fixes:
            row = stored[held.id]
            scalar.append(
                score_fix(session=session, settings=settings, zone_index=zone_index,
                          tourist_id=row.tourist_id,
                          fix=Fix(row.latitude, row.longitude, row.timestamp, row.speed, row.accuracy,
                                  row.altitude),
                          fix_id=row.id, received_at=row.created_at)
            )  # fmt: skip

    assert len(batch.fixes) == len(stored) > 120
    texts = factor_rows_json(assessed)
    for i, scored in enumerate(scalar):
        assert assessed.assessment(i) == scored.assessment, batch.fixes[i]
        assert texts[i] == jsoncodec.dumps_text(factor_rows(ScoredFix(scored.data, scored.assessment, 0.0)))
    # the batch reached every branch the edge cases were made for
    details = [w.details for s in scalar for w in s.assessment.factors]
    facts = [w.facts for s in scalar for w in s.assessment.factors]
    for start in ("Daytime", "Twilight", "Night", "Late night", "Inside restricted", "Inside risky",
                  "Inside safe", "No alerts", "No restricted", "Implausible", "Vehicle", "Sudden stop",
                  "0 incidents"):  # fmt: skip
        assert any(d.startswith(start) for d in details), start
    assert any("km from restricted zone" in d for d in details)
    assert any(f.get("kind") == "implausible" for f in facts)
    assert len({s.assessment.location_safety_score for s in scalar}) > 50
