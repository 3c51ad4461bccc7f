"""Background rescoring: recent fixes scored again with data as of each fix's time, a batch at a time.

A batch's data is read with a few set-based queries (``batch.py``) on top of what the run holds
in memory, each fix is scored with the pure ``scoring.assess`` (its alert factors computed for the whole
batch over arrays), and the batch is written back with one executemany UPDATE: the same numbers
``assessor.score_fix`` gives fix by fix in id order, with a fixed number of statements per batch.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import cache
from typing import cast

import sqlalchemy as sa
from fastapi import FastAPI
from sqlalchemy.orm import Session

from safesphere.core import clock, jsoncodec
from safesphere.core.config import Settings
from safesphere.core.db import Database
from safesphere.core.periodic import claim_period
from safesphere.scoring import batch as batch_scoring
from safesphere.scoring.assessment import risk_level, tourist_safety_score
from safesphere.scoring.batch import BatchAssessment
from safesphere.tracking.models import LocationFix, TouristStatus
from safesphere.tracking.rescoring.alerts import RecentAlerts
from safesphere.tracking.rescoring.batch import Batch, RunData, next_batch
from safesphere.tracking.rescoring.timeline import HELD_BEFORE_START, RecentFixes
from safesphere.zones.spatial_index import ZoneIndex

log = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 5000
"""Fixes per batch: large enough that the per-batch queries are cheap per fix, small enough that a
batch's write transaction stays short."""

_fixes = cast(sa.Table, LocationFix.__table__)
_statuses = cast(sa.Table, TouristStatus.__table__)


@cache
def _update_fixes(dialect: str) -> sa.Update:
    """One UPDATE for a batch's fixes (run as executemany). The factor rows come serialised as the JSON
    column would serialise them (``core.jsoncodec``), saving its per-row processing; PostgreSQL casts them."""
    text = sa.bindparam("factor_rows", type_=sa.Text())
    return (
        sa.update(_fixes)
        .where(_fixes.c.id == sa.bindparam("fix_id"))
        .values(
            safety_score=sa.bindparam("location_score"),
            tourist_safety_score=sa.bindparam("tourist_score"),
            risk_level=sa.bindparam("level"),
            factors=text if dialect == "sqlite" else sa.cast(text, _fixes.c.factors.type),
            safety_score_updated_at=sa.bindparam("rescored_at"),
        )
    )


_UPDATE_STATUS = (
    sa.update(_statuses)
    .where(_statuses.c.tourist_id == sa.bindparam("status_tourist"))
    .where(_statuses.c.last_fix_id == sa.bindparam("status_fix"))  # unless a newer fix moved it meanwhile
    .values(
        location_safety_score=sa.bindparam("location_score"),
        tourist_safety_score=sa.bindparam("tourist_score"),
        risk_level=sa.bindparam("level"),
        updated_at=sa.bindparam("updated_at"),
    )
)


def update_location_safety_scores(
    *,
    database: Database,
    settings: Settings,
    zone_index: ZoneIndex,
    hours_back: float = 1.0,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Rescore every fix of the last ``hours_back`` hours, a batch per transaction; returns how many.

    Each fix sees only data up to its own time, so an old fix never learns about later alerts; fixes are
    scored in id order, each seeing the scores rescored before it (as one by one). The tourists' current
    status is refreshed from their rescored latest fix. A batch is read from a snapshot, so live updates
    wait only for its short write.
    """
    since = clock.now() - timedelta(hours=hours_back)
    with database.read_session() as session:
        total = session.scalar(sa.select(sa.func.count()).where(LocationFix.timestamp >= since)) or 0
    recent = RecentFixes(since - HELD_BEFORE_START)
    run = RunData(
        recent,
        RecentAlerts(since),
        zone_index,
        skew_tolerance_s=settings.clock_skew_tolerance_s,
        max_ground_speed_mps=settings.max_ground_speed_kmh / 3.6,
    )
    done, last_id = 0, 0
    while True:
        with database.read_session() as session:
            zone_index.refresh_if_changed(session)
            batch = next_batch(session, run=run, since=since, after_id=last_id, size=batch_size)
        if batch is None:
            break
        with database.session() as session:
            _write(session, batch, _score(batch, settings, recent), clock.now())
            session.commit()
        last_id = batch.fixes[-1].id
        done += len(batch.fixes)
        if progress is not None:
            progress(done, total)
    return done


def _score(batch: Batch, settings: Settings, recent: RecentFixes) -> list[dict[str, object]]:
    """Each fix's new scores, in id order; each location score is held at once for the averages after."""
    assessed = batch_scoring.assess(batch.scoring, settings.scoring_weights)
    texts = factor_rows_json(assessed)
    rows: list[dict[str, object]] = []
    for i, (fix, (older_sum, older_count)) in enumerate(zip(batch.fixes, batch.older, strict=True)):
        location_score = assessed.location_score[i]
        tourist_score = tourist_safety_score(location_score, recent.average(fix, older_sum, older_count))
        fix.score = location_score
        rows.append(
            {
                "fix_id": fix.id,
                "location_score": location_score,
                "tourist_score": tourist_score,
                "level": assessed.risk_level[i],
                "factor_rows": texts[i],
            }
        )
    return rows


def factor_rows_json(assessed: BatchAssessment) -> list[str]:
    """Each fix's ``factor_rows`` as the JSON column writes them (``core.jsoncodec``), built from the
    batch's columns."""
    columns = list(
        zip(assessed.results, assessed.scores, assessed.weights, assessed.contributions, strict=True)
    )
    return [
        jsoncodec.dumps_text(
            [
                {
                    "name": results[i].name,
                    "score": scores[i],
                    "weight": weight,
                    "contribution": contributions[i],
                    "details": results[i].details,
                }
                for results, scores, weight, contributions in columns
            ]
        )
        for i in range(len(assessed.location_score))
    ]


def _write(session: Session, batch: Batch, rows: list[dict[str, object]], now: datetime) -> None:
    """One executemany UPDATE of the fixes, one of the statuses that show one of them and changed."""
    dialect = session.get_bind().dialect
    stamp = _bound(_fixes.c.safety_score_updated_at, now, dialect)
    for row in rows:
        row["rescored_at"] = stamp
    _execute_many(session, _update_fixes(dialect.name), rows)
    statuses = []
    stamp = _bound(_statuses.c.updated_at, now, dialect)
    for fix, row in zip(batch.fixes, rows, strict=True):
        stored = batch.statuses.get(fix.tourist_id)
        if stored is None or stored[0] != row["fix_id"]:
            continue
        tourist_score = cast(float, row["tourist_score"])
        status = {"location_score": row["location_score"], "tourist_score": tourist_score}
        status["level"] = risk_level(tourist_score)
        if tuple(status.values()) != stored[1:]:
            status |= {"status_tourist": fix.tourist_id, "status_fix": fix.id, "updated_at": stamp}
            statuses.append(status)
    if statuses:
        _execute_many(session, _UPDATE_STATUS, statuses)


def _bound(column: sa.Column[datetime], value: datetime, dialect: sa.Dialect) -> object:
    """``value`` as ``column``'s type hands it to the driver (done once, not once per row)."""
    process = column.type.bind_processor(dialect)
    return process(value) if process is not None else value


def _execute_many(session: Session, statement: sa.Update, rows: list[dict[str, object]]) -> None:
    """``session.execute(statement, rows)`` as one executemany, without SQLAlchemy's processing of every
    row's parameters (it costs more than the database's own update): each row holds only values the
    driver takes as they are (numbers, text, a timestamp already processed by ``_bound``)."""
    connection = session.connection()
    compiled = statement.compile(dialect=connection.dialect)
    names = compiled.positiontup
    parameters = [tuple(row[name] for name in names) for row in rows] if names is not None else rows
    connection.exec_driver_sql(str(compiled), parameters)


RESCORING_TASK = "rescore_recent_fixes"


async def rescore_periodically(app: FastAPI) -> None:
    """The server's background rescoring loop (``SAFESPHERE_RESCORE_INTERVAL_S``; 0 switches it off). Of
    several server processes, one rescores each period (``core.periodic``)."""
    settings: Settings = app.state.settings
    while True:
        await asyncio.sleep(settings.rescore_interval_s)
        try:
            if not await asyncio.to_thread(
                claim_period, app.state.db, RESCORING_TASK, settings.rescore_interval_s
            ):
                continue
            count = await asyncio.to_thread(
                update_location_safety_scores,
                database=app.state.db,
                settings=settings,
                zone_index=app.state.zone_index,
                hours_back=settings.rescore_hours_back,
            )
            log.info("rescored %d recent fixes", count)
        except Exception:
            log.exception("background rescoring failed; will retry next period")
