"""Background rescoring: recent fixes scored again with data as of each fix's time."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import timedelta

import sqlalchemy as sa
from fastapi import FastAPI

from safesphere.core import clock
from safesphere.core.config import Settings
from safesphere.core.db import Database
from safesphere.scoring.assessment import risk_level
from safesphere.scoring.model import Fix
from safesphere.tracking.assessor import score_fix
from safesphere.tracking.models import LocationFix, TouristStatus
from safesphere.tracking.service import factor_rows
from safesphere.zones.spatial_index import ZoneIndex

log = logging.getLogger(__name__)


def update_location_safety_scores(
    *,
    database: Database,
    settings: Settings,
    zone_index: ZoneIndex,
    hours_back: float = 1.0,
    batch_size: int = 1000,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Rescore every fix of the last ``hours_back`` hours, a batch per transaction; returns how many.

    Each fix sees only data up to its own time, so an old fix never learns about later alerts. The
    tourists' current status is refreshed from their rescored latest fix.
    """
    since = clock.now() - timedelta(hours=hours_back)
    with database.read_session() as session:
        total = session.scalar(sa.select(sa.func.count()).where(LocationFix.timestamp >= since)) or 0
    done, last_id = 0, 0
    while True:
        with database.session() as session:
            batch = list(
                session.scalars(
                    sa.select(LocationFix)
                    .where(LocationFix.timestamp >= since, LocationFix.id > last_id)
                    .order_by(LocationFix.id)
                    .limit(batch_size)
                )
            )
            if not batch:
                break
            now = clock.now()
            zone_index.refresh_if_changed(session)
            statuses = {
                status.tourist_id: status
                for status in session.scalars(
                    sa.select(TouristStatus).where(TouristStatus.last_fix_id.in_([f.id for f in batch]))
                )
            }
            for fix in batch:
                scored = score_fix(
                    session=session,
                    settings=settings,
                    zone_index=zone_index,
                    tourist_id=fix.tourist_id,
                    fix=Fix(fix.latitude, fix.longitude, fix.timestamp, fix.speed, fix.accuracy),
                    fix_id=fix.id,
                )
                fix.safety_score = scored.assessment.location_safety_score
                fix.tourist_safety_score = scored.tourist_safety_score
                fix.risk_level = scored.assessment.risk_level
                fix.factors = factor_rows(scored)
                fix.safety_score_updated_at = now
                status = statuses.get(fix.tourist_id)
                if status is not None and status.last_fix_id == fix.id:
                    status.location_safety_score = fix.safety_score
                    status.tourist_safety_score = fix.tourist_safety_score
                    status.risk_level = risk_level(fix.tourist_safety_score)
            session.commit()
            last_id = batch[-1].id
            done += len(batch)
        if progress is not None:
            progress(done, total)
    return done


async def rescore_periodically(app: FastAPI) -> None:
    """The server's background rescoring loop (``SAFESPHERE_RESCORE_INTERVAL_S``; 0 switches it off)."""
    settings: Settings = app.state.settings
    while True:
        await asyncio.sleep(settings.rescore_interval_s)
        try:
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
