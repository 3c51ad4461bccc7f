"""What a batch of stored fixes needs to be scored, read with a few set-based queries: the same data
``assessor.score_fix`` gathers for one fix (each fix as of its own time), for thousands at once."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import cast

import numpy as np
import sqlalchemy as sa
from sqlalchemy.orm import Session

from safesphere.scoring import alert_arrays, factors
from safesphere.scoring import constants as c
from safesphere.scoring.batch import BatchInput
from safesphere.scoring.factor_arrays import Floats, Movement
from safesphere.scoring.model import FactorResult, Fix
from safesphere.tracking.models import LocationFix, TouristStatus
from safesphere.tracking.rescoring.alerts import RecentAlerts
from safesphere.tracking.rescoring.timeline import RecentFix, RecentFixes
from safesphere.tracking.rescoring.zones import deciding_zones
from safesphere.zones.spatial_index import ZoneIndex

_fixes = cast(sa.Table, LocationFix.__table__)
_statuses = cast(sa.Table, TouristStatus.__table__)


@dataclass(frozen=True)
class Batch:
    """The fixes of one batch, in id order (the order they are scored and see each other's new scores)."""

    fixes: list[RecentFix]
    scoring: BatchInput
    """What the fixes are scored from, as columns (``scoring.batch``)."""
    older: list[tuple[float | None, int]]
    """Per fix: the sum and count of its tourist's scores from 30 days before it up to the held window."""
    statuses: dict[int, tuple[int, float, float, str]]
    """Tourists whose status shows a fix of the batch: tourist_id -> (fix id, location score, tourist
    score, risk level) as stored."""


@dataclass(frozen=True)
class RunData:
    """What a rescoring run holds in memory from batch to batch (each refreshed before a batch)."""

    fixes: RecentFixes
    alerts: RecentAlerts
    zone_index: ZoneIndex
    skew_tolerance_s: float
    """Settings.clock_skew_tolerance_s."""
    max_ground_speed_mps: float
    """Settings.max_ground_speed_kmh in m/s."""


def next_batch(session: Session, *, run: RunData, since: datetime, after_id: int, size: int) -> Batch | None:
    """The next ``size`` fixes since ``since`` after ``after_id`` (by id), with their scoring inputs."""
    recent = run.fixes
    recent.refresh(session)
    held = recent.after(after_id, since, size)
    if not held:
        return None
    run.alerts.refresh(session)
    first, last = held[0].id, held[-1].id
    older = _older_scores(session, recent, since, first, last)
    lat = np.array([f.lat for f in held], dtype=np.float64)
    lon = np.array([f.lon for f in held], dtype=np.float64)
    nearby, history = _alert_factors(run, held, lat, lon)
    scoring = BatchInput(
        lat=lat,
        lon=lon,
        timestamps=[f.timestamp for f in held],
        movement=_movement(recent, held),
        zones=deciding_zones(run.zone_index, held),
        tourists_nearby=np.array(recent.crowd(held), dtype=np.int64),
        max_ground_speed_mps=run.max_ground_speed_mps,
        nearby_alerts=nearby,
        historical_risk=history,
    )
    older_scores = [older.get(f.id, (None, 0)) for f in held]
    return Batch(held, scoring, older_scores, _statuses_of(session, since, first, last))


def _alert_factors(
    run: RunData, held: list[RecentFix], lat: Floats, lon: Floats
) -> tuple[list[FactorResult], list[FactorResult]]:
    """Both alert factors for every fix over arrays, and by the factor itself where the arrays cannot
    tell (an alert within a hair of the radius, a score within a hair of a rounding edge)."""
    skew = run.skew_tolerance_s
    nearby, history = run.alerts.around(held, skew)
    near = alert_arrays.nearby_alerts(nearby.pairs, lat, lon, skew)
    past = alert_arrays.historical_risk(history.pairs, lat, lon, skew)
    for i in [i for i, (n, p) in enumerate(zip(near, past, strict=True)) if n is None or p is None]:
        fix = held[i]
        scored = Fix(fix.lat, fix.lon, fix.timestamp, fix.speed, fix.accuracy, fix.altitude)
        if near[i] is None:
            near[i] = factors.nearby_alerts(scored, nearby.of(i), skew)
        if past[i] is None:
            past[i] = factors.historical_risk(scored, history.of(i), skew)
    return cast(list[FactorResult], near), cast(list[FactorResult], past)


def _movement(recent: RecentFixes, held: list[RecentFix]) -> Movement:
    """Each fix's own movement data and ``repository.recent_movement``'s answer for it, as columns."""
    count = len(held)
    before = np.full((count, 4), np.nan)  # lat, lon, accuracy, microseconds before the fix
    speeds = []
    for i, fix in enumerate(held):
        previous, recent_speeds = recent.movement(fix)
        speeds.append(recent_speeds)
        if previous is not None:
            before[i] = (previous.lat, previous.lon, _or_nan(previous.accuracy), previous.time_us)
    elapsed_us = np.array([f.time_us for f in held], dtype=np.int64) - np.nan_to_num(before[:, 3]).astype(
        np.int64
    )
    return Movement(
        speed=np.array([_or_nan(f.speed) for f in held], dtype=np.float64),
        accuracy=np.array([_or_nan(f.accuracy) for f in held], dtype=np.float64),
        altitude=np.array([_or_nan(f.altitude) for f in held], dtype=np.float64),
        has_previous=~np.isnan(before[:, 0]),
        previous_lat=before[:, 0],
        previous_lon=before[:, 1],
        previous_accuracy=before[:, 2],
        seconds_since_previous=elapsed_us / 1e6,
        recent_speeds=speeds,
    )


def _or_nan(value: float | None) -> float:
    return math.nan if value is None else value


def _batch_rows(since: datetime, first: int, last: int) -> sa.ColumnElement[bool]:
    """The batch's fixes as a primary-key range (no parameter per fix, whatever the batch size)."""
    return sa.and_(_fixes.c.id.between(first, last), _fixes.c.timestamp >= since)


def _days_before(moment: sa.ColumnElement[datetime], days: int, dialect: str) -> sa.ColumnElement[datetime]:
    """``moment`` minus whole days in SQL, exactly as Python subtracts them: SQLite keeps 'YYYY-MM-DD
    HH:MM:SS.ffffff' UTC text, so the date moves and the clock part stays; PostgreSQL subtracts hours
    (a day interval would follow the session's time zone across a DST change)."""
    if dialect == "sqlite":
        shifted = sa.func.date(moment, f"-{days} days").concat(sa.func.substr(moment, 11))
        return sa.type_coerce(shifted, LocationFix.timestamp.type)
    return moment - sa.func.make_interval(0, 0, 0, 0, days * 24)


def _older_scores(
    session: Session, recent: RecentFixes, since: datetime, first: int, last: int
) -> dict[int, tuple[float | None, int]]:
    """Per fix of the batch: the sum and count of its tourist's scores from 30 days before it up to the
    held window, in one grouped statement. The fixes are read in id order and each one's scores in the
    (tourist_id, timestamp) index order, the order ``repository.average_score`` adds them in, so going
    on from this partial sum over the held fixes gives the very same double as that query's ``avg``
    (SQLite before 3.43 and PostgreSQL add plainly; SQLite 3.43+ compensates its sums, and there the
    mean's last bit, so a half-cent of the blend, can differ)."""
    fix, older = _fixes.alias("fix"), _fixes.alias("older")
    lower = _days_before(fix.c.timestamp, c.TOURIST_HISTORY_WINDOW.days, session.get_bind().dialect.name)
    query = (
        sa.select(fix.c.id, sa.func.sum(older.c.safety_score), sa.func.count(older.c.safety_score))
        .join(
            older,
            sa.and_(
                older.c.tourist_id == fix.c.tourist_id,
                older.c.timestamp >= lower,
                older.c.timestamp < recent.start,
                older.c.safety_score.is_not(None),
            ),
        )
        .where(fix.c.id.between(first, last), fix.c.timestamp >= since)
        .group_by(fix.c.id)
    )
    return {row[0]: (row[1], int(row[2])) for row in session.execute(query).all()}


def _statuses_of(
    session: Session, since: datetime, first: int, last: int
) -> dict[int, tuple[int, float, float, str]]:
    """The statuses that show a fix of the batch (the ones its rescoring refreshes), as stored."""
    s = _statuses.c
    query = (
        sa.select(s.tourist_id, s.last_fix_id, s.location_safety_score, s.tourist_safety_score, s.risk_level)
        .join(_fixes, sa.and_(_fixes.c.tourist_id == s.tourist_id, _fixes.c.id == s.last_fix_id))
        .where(_batch_rows(since, first, last))
    )
    return {row[0]: (row[1], row[2], row[3], row[4]) for row in session.execute(query).all()}
