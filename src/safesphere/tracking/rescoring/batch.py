"""What a batch of stored fixes needs to be scored, read with a few set-based queries: the same data
``assessor.score_fix`` gathers for one fix (each fix as of its own time), for thousands at once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import cast

import numpy as np
import sqlalchemy as sa
from sqlalchemy.orm import Session

from safesphere.scoring import alert_arrays
from safesphere.scoring import constants as c
from safesphere.scoring.model import FactorResult, Fix, ScoringInput
from safesphere.tracking.models import LocationFix, TouristStatus
from safesphere.tracking.rescoring.alerts import RecentAlerts
from safesphere.tracking.rescoring.timeline import RecentFix, RecentFixes
from safesphere.tracking.rescoring.zones import deciding_zones
from safesphere.zones.spatial_index import ZoneIndex

_fixes = cast(sa.Table, LocationFix.__table__)
_statuses = cast(sa.Table, TouristStatus.__table__)


@dataclass(frozen=True)
class BatchFix:
    """One stored fix of the batch, what it is scored from, and the start of its 30-day average."""

    held: RecentFix
    data: ScoringInput
    """Its alert lists are filled only for a factor ``known`` lacks."""
    known: dict[str, FactorResult]
    """The alert factors computed for the whole batch over arrays (``scoring.alert_arrays``)."""
    older_sum: float | None
    older_count: int


@dataclass(frozen=True)
class Batch:
    """The fixes of one batch, in id order (the order they are scored and see each other's new scores)."""

    fixes: list[BatchFix]
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
    f = _fixes.c
    rows = session.execute(
        sa.select(f.id, f.accuracy, f.altitude)
        .where(f.timestamp >= since, f.id > after_id)
        .order_by(f.id)
        .limit(size)
    ).all()
    if not rows:
        return None
    recent = run.fixes
    recent.refresh(session)
    run.alerts.refresh(session)
    held = [recent.by_id[row.id] for row in rows]
    first, last = rows[0].id, rows[-1].id
    older = _older_scores(session, recent, since, first, last)
    skew = run.skew_tolerance_s
    nearby, history = run.alerts.around(held, skew)
    lat = np.array([f.lat for f in held], dtype=np.float64)
    lon = np.array([f.lon for f in held], dtype=np.float64)
    nearby_results = alert_arrays.nearby_alerts(nearby.pairs, lat, lon, skew)
    history_results = alert_arrays.historical_risk(history.pairs, lat, lon, skew)
    zones = deciding_zones(run.zone_index, held)
    crowd = recent.crowd(held)
    fixes = []
    for i, (fix, row) in enumerate(zip(held, rows, strict=True)):
        previous, speeds = recent.movement(fix)
        near, past = nearby_results[i], history_results[i]
        data = ScoringInput(
            fix=Fix(fix.lat, fix.lon, fix.timestamp, fix.speed, row.accuracy, row.altitude),
            nearby_alerts=nearby.of(i) if near is None else [],
            historical_alerts=history.of(i) if past is None else [],
            zones=zones[i],
            tourists_nearby=crowd[i],
            previous_fix=previous,
            recent_speeds_mps=speeds,
            max_ground_speed_mps=run.max_ground_speed_mps,
            clock_skew_tolerance_s=skew,
        )
        known = {"nearby_alerts": near, "historical_risk": past}
        older_sum, older_count = older.get(fix.id, (None, 0))
        fixes.append(
            BatchFix(fix, data, {k: v for k, v in known.items() if v is not None}, older_sum, older_count)
        )
    return Batch(fixes, _statuses_of(session, since, first, last))


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
