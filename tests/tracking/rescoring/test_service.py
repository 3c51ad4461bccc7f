"""Batched rescoring gives every fix exactly what the per-fix path (``assessor.score_fix``, fix by fix in
id order) gives it, on a small city written straight into the database: alerts of every kind (resolved
before and after the fixes, the tourists' own anomaly alerts, warnings), circle and polygon zones of every
type, and tourists with fix histories from weeks ago to the last minutes; with a bounded number of
statements per batch."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from safesphere.alerts.models import Alert
from safesphere.auth.models import User
from safesphere.core import clock
from safesphere.core.config import Settings
from safesphere.core.db import Database
from safesphere.scoring.assessment import risk_level
from safesphere.scoring.model import Fix
from safesphere.tracking.assessor import score_fix
from safesphere.tracking.models import LocationFix, TouristStatus
from safesphere.tracking.rescoring.service import update_location_safety_scores
from safesphere.tracking.service import factor_rows
from safesphere.zones.geometry import parse_polygon, polygon_center_and_radius
from safesphere.zones.models import Zone
from safesphere.zones.spatial_index import ZoneIndex
from tests.support.statements import counting
from tests.tracking.fixtures import SPOT

NOW = datetime(2026, 11, 20, 17, 30, tzinfo=UTC)
"""Dusk to night in Paris, so fixes of the last hours cross daylight, twilight and night."""
SPREAD_DEG = 0.02
SEVERITIES = ("low", "medium", "high", "critical")
PARK = (SPOT[0] + 0.06, SPOT[1] + 0.06)
"""A large safe zone away from the others, where the first tourist walks."""


@dataclass(frozen=True)
class Rescored:
    """What rescoring stores for one fix."""

    location_score: float | None
    tourist_score: float | None
    risk_level: str | None
    factors: list[dict[str, Any]] | None


def _near(rng: random.Random) -> tuple[float, float]:
    return SPOT[0] + rng.uniform(-SPREAD_DEG, SPREAD_DEG), SPOT[1] + rng.uniform(-SPREAD_DEG, SPREAD_DEG)


def _square(lat: float, lon: float, half_deg: float) -> dict[str, Any]:
    ring = [[lon - half_deg, lat - half_deg], [lon + half_deg, lat - half_deg], [lon, lat + half_deg]]
    return {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}


def _zones(rng: random.Random, count: int) -> list[Zone]:
    zones = []
    for n in range(count):
        lat, lon = _near(rng)
        kind = rng.choice(("restricted", "risky", "safe"))
        if n % 3 == 0:
            polygon = _square(lat, lon, rng.uniform(0.001, 0.004))
            lat, lon, radius = polygon_center_and_radius(parse_polygon(polygon))
            zones.append(Zone(name=f"Zone {n}", type=kind, center_lat=lat, center_lon=lon, radius_km=radius,
                              polygon=polygon))  # fmt: skip
        else:
            zones.append(Zone(name=f"Zone {n}", type=kind, center_lat=lat, center_lon=lon,
                              radius_km=rng.uniform(0.05, 0.4)))  # fmt: skip
    return zones


def _alert(rng: random.Random, tourist_ids: list[int], n: int) -> Alert:
    lat, lon = _near(rng)
    occurred = NOW - timedelta(minutes=rng.choice((rng.uniform(0, 600), rng.uniform(0, 60 * 24 * 40))))
    kind = rng.choice(("incident", "incident", "sos", "anomaly", "warning"))
    status = rng.choice(("open", "acknowledged", "resolved", "resolved", "false_alarm"))
    resolved = occurred + timedelta(minutes=rng.uniform(1, 300)) if status != "open" else None
    return Alert(
        type=kind, severity=rng.choice(SEVERITIES), title=f"Alert {n}", description="city", latitude=lat,
        longitude=lon, occurred_at=occurred, status=status, resolved_at=resolved,
        tourist_id=rng.choice([None, *tourist_ids]) if kind in ("anomaly", "sos", "warning") else None,
        created_at=occurred + timedelta(seconds=rng.uniform(-100, 900)),  # clocks ahead, late spools
    )  # fmt: skip


def _skewed_alerts(rng: random.Random, fixes: list[LocationFix]) -> list[Alert]:
    """Alerts dated up to 150 s after a fix (a device clock behind the server's), received before or
    after it: the clock-skew tolerance counts the first kind only."""
    alerts = []
    for fix in rng.sample(fixes, 12):
        at = fix.timestamp + timedelta(seconds=rng.uniform(0, 150))
        alerts.append(
            Alert(type=rng.choice(("incident", "sos")), severity=rng.choice(SEVERITIES), title="skewed",
                  description="city", latitude=fix.latitude + rng.uniform(-0.002, 0.002),
                  longitude=fix.longitude, occurred_at=at, status="open",
                  created_at=fix.created_at + timedelta(seconds=rng.uniform(-60, 60)))
        )  # fmt: skip
    return alerts


def _fix_times(rng: random.Random, count: int) -> list[datetime]:
    """Mostly the last three hours, some days and weeks back, and one repeated instant."""
    times = [NOW - timedelta(seconds=rng.uniform(0, 3 * 3600)) for _ in range(count)]
    times += [NOW - timedelta(days=rng.uniform(0.1, 35)) for _ in range(count // 3)]
    times.append(times[0])
    return times


def build(db: Database, *, seed: int, tourists: int = 8, fixes_each: int = 9, alerts: int = 60) -> None:
    rng = random.Random(seed)
    with db.session() as session:
        users = [
            User(email=f"city-{seed}-{n}@example.com", password_hash="!", role="tourist")
            for n in range(tourists)
        ]
        session.add_all(users)
        session.flush()
        ids = [u.id for u in users]
        session.add_all(_zones(rng, 14))
        session.add(Zone(name="Park", type="safe", center_lat=PARK[0], center_lon=PARK[1], radius_km=1.5))
        session.add_all(_alert(rng, ids, n) for n in range(alerts))
        rows = []
        for tourist_id in ids:
            lat, lon = PARK if tourist_id == ids[0] else _near(rng)
            for at in _fix_times(rng, fixes_each):
                step = rng.choice((0.0005, 0.003, 0.02)) if tourist_id != ids[0] else 0.001
                lat, lon = lat + rng.uniform(-step, step), lon + rng.uniform(-step, step)
                score = rng.choice((None, round(rng.uniform(20, 99), 2)))
                rows.append(LocationFix(tourist_id=tourist_id, latitude=lat, longitude=lon, timestamp=at,
                                        speed=rng.choice((None, rng.uniform(0, 30))),
                                        accuracy=rng.choice((None, 10.0, 150.0)),
                                        altitude=rng.choice((None, 35.0, 10_000.0)),
                                        created_at=at + timedelta(seconds=rng.uniform(-5, 60)),
                                        safety_score=score, tourist_safety_score=score))  # fmt: skip
        rng.shuffle(rows)  # ids in no particular time order, as late and spooled fixes arrive
        session.add_all(rows)
        session.add_all(_skewed_alerts(rng, [r for r in rows if r.timestamp > NOW - timedelta(hours=3)]))
        session.flush()
        for tourist_id in ids:
            own = [r for r in rows if r.tourist_id == tourist_id]
            latest = max(own, key=lambda r: (r.timestamp, r.id))
            session.add(
                TouristStatus(tourist_id=tourist_id, last_fix_id=latest.id, latitude=latest.latitude,
                              longitude=latest.longitude, last_seen=latest.timestamp,
                              location_safety_score=0.0, tourist_safety_score=0.0, risk_level="low")
            )  # fmt: skip
        session.commit()


def per_fix_rescoring(
    db: Database, settings: Settings, since: datetime
) -> tuple[dict[int, Rescored], dict[int, tuple[float | None, float | None, str]]]:
    """What the per-fix path makes of every fix since ``since`` (and of the statuses), rolled back after."""
    zone_index = ZoneIndex()
    results: dict[int, Rescored] = {}
    with db.session() as session:
        zone_index.refresh_if_changed(session)
        fixes = session.scalars(
            sa.select(LocationFix).where(LocationFix.timestamp >= since).order_by(LocationFix.id)
        ).all()
        for fix in fixes:
            scored = score_fix(session=session, settings=settings, zone_index=zone_index,
                               tourist_id=fix.tourist_id,
                               fix=Fix(fix.latitude, fix.longitude, fix.timestamp, fix.speed, fix.accuracy,
                                       fix.altitude),
                               fix_id=fix.id, received_at=fix.created_at)  # fmt: skip
            fix.safety_score = scored.assessment.location_safety_score  # seen by the next fixes' averages
            results[fix.id] = Rescored(fix.safety_score, scored.tourist_safety_score,
                                       scored.assessment.risk_level, factor_rows(scored))  # fmt: skip
        statuses = {
            s.tourist_id: (results[s.last_fix_id].location_score, results[s.last_fix_id].tourist_score,
                           risk_level(results[s.last_fix_id].tourist_score or 0.0))
            for s in session.scalars(sa.select(TouristStatus)) if s.last_fix_id in results
        }  # fmt: skip
        session.rollback()
    return results, statuses


def stored(db: Database, since: datetime) -> tuple[dict[int, Rescored], dict[int, tuple[float, float, str]]]:
    with db.read_session() as session:
        fixes = {
            f.id: Rescored(f.safety_score, f.tourist_safety_score, f.risk_level, f.factors)
            for f in session.scalars(sa.select(LocationFix).where(LocationFix.timestamp >= since))
        }
        statuses = {
            s.tourist_id: (s.location_safety_score, s.tourist_safety_score, s.risk_level)
            for s in session.scalars(sa.select(TouristStatus)) if s.last_fix_id in fixes
        }  # fmt: skip
    return fixes, statuses


HOURS_BACK = 3.0


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    """No background task writes or queries while the test compares and counts."""
    return {"escalation_rounds": 0, "rescore_interval_s": 0}


def _factor_scores(results: dict[int, Rescored], name: str) -> list[float]:
    return [f["score"] for r in results.values() for f in r.factors or [] if f["name"] == name]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_batched_rescoring_stores_exactly_what_the_per_fix_path_gives(
    db: Database, settings: Settings, seed: int
) -> None:
    build(db, seed=seed)
    with clock.frozen(NOW + timedelta(minutes=1)):
        since = clock.now() - timedelta(hours=HOURS_BACK)
        expected, expected_statuses = per_fix_rescoring(db, settings, since)
        count = update_location_safety_scores(
            database=db, settings=settings, zone_index=ZoneIndex(), hours_back=HOURS_BACK, batch_size=7
        )
    fixes, statuses = stored(db, since)

    assert count == len(expected) == len(fixes) > 60
    assert {k: fixes[k] for k in expected} == expected
    assert statuses == expected_statuses and len(statuses) == 8
    # the city exercises every factor away from its default
    assert min(_factor_scores(expected, "nearby_alerts")) < 100
    assert min(_factor_scores(expected, "historical_risk")) < 100
    assert (
        min(_factor_scores(expected, "zone_risk")) < 80 and max(_factor_scores(expected, "zone_risk")) == 100
    )
    assert max(_factor_scores(expected, "crowd_density")) > 40
    assert min(_factor_scores(expected, "speed_anomaly")) < 100
    assert len(set(_factor_scores(expected, "time_of_day"))) >= 3
    assert (
        len({r.tourist_score for r in expected.values()} - {r.location_score for r in expected.values()}) > 10
    )


STATEMENTS_PER_BATCH = 8
"""The zone version, new held fixes (the batch is picked from the held ones), new alerts, alert statuses,
older averages, tourist statuses, and the two UPDATEs (transaction starts aside: SQLite's are statements,
PostgreSQL's are not)."""
STATEMENTS_PER_RUN = 4
"""The count of fixes to do, loading the zones, and the last look (zone version, new held fixes) that
finds none."""


def _statements_rescoring(db: Database, settings: Settings, batch_size: int) -> int:
    with clock.frozen(NOW + timedelta(minutes=1)), counting(db) as statements:
        update_location_safety_scores(
            database=db,
            settings=settings,
            zone_index=ZoneIndex(),
            hours_back=HOURS_BACK,
            batch_size=batch_size,
        )
    return len([s for s in statements if not s.startswith("BEGIN")])


def test_rescoring_issues_a_fixed_number_of_statements_per_batch_not_per_fix(
    db: Database, settings: Settings
) -> None:
    build(db, seed=4, tourists=4)
    one_batch = _statements_rescoring(db, settings, batch_size=1000)
    build(db, seed=5, tourists=12, fixes_each=20)  # four times the fixes, still one batch
    one_bigger_batch = _statements_rescoring(db, settings, batch_size=1000)
    three_batches = _statements_rescoring(db, settings, batch_size=100)

    assert one_bigger_batch == one_batch == STATEMENTS_PER_BATCH + STATEMENTS_PER_RUN
    assert three_batches == 3 * STATEMENTS_PER_BATCH + STATEMENTS_PER_RUN
