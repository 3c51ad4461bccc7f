"""The tracking queries. Each is one statement with an indexed prefilter, whatever the data size."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from safesphere.alerts.models import Alert, AlertStatus, AlertType
from safesphere.core.geo import BoundingBox, bounding_box, grid_cells, haversine_km
from safesphere.scoring import constants as c
from safesphere.scoring.model import AlertObservation, PreviousFix
from safesphere.tracking.models import LocationFix

RECENT_MOVEMENT_WINDOW = timedelta(hours=1)
"""The tourist's own recent movement that a new speed is compared with."""
RECENT_MOVEMENT_LIMIT = 50


def alerts_around(
    session: Session, *, tourist_id: int | None, lat: float, lon: float, at: datetime
) -> tuple[list[AlertObservation], list[AlertObservation]]:
    """(nearby: open as of ``at``, 2 km, 6 h) and (historical: 1 km, 30 days), never after ``at``.

    The tourist's own anomaly alerts are left out so a low score does not feed on itself.
    """
    box = bounding_box(lat, lon, max(c.NEARBY_ALERT_RADIUS_KM, c.HISTORY_RADIUS_KM))
    query = sa.select(
        Alert.id, Alert.latitude, Alert.longitude, Alert.severity, Alert.occurred_at, Alert.type,
        Alert.status, Alert.resolved_at,
    ).where(
        *_within(box, Alert.cell, Alert.latitude, Alert.longitude),
        Alert.occurred_at.between(at - max(c.HISTORY_WINDOW, c.NEARBY_ALERT_WINDOW), at),
        Alert.type != AlertType.warning.value,  # a copy of an incident alert that already counts
    )  # fmt: skip
    if tourist_id is not None:
        query = query.where(
            sa.or_(
                Alert.tourist_id.is_(None),
                Alert.tourist_id != tourist_id,
                Alert.type != AlertType.anomaly.value,
            )
        )
    nearby, history = [], []
    for row in session.execute(query):
        observation = AlertObservation(
            row.latitude, row.longitude, row.severity, row.occurred_at, row.id, row.type
        )
        history.append(observation)
        was_open = row.status != AlertStatus.resolved.value or (row.resolved_at or at) > at
        if was_open and at - row.occurred_at <= c.NEARBY_ALERT_WINDOW:
            nearby.append(observation)
    return nearby, history


def _within(
    box: BoundingBox,
    cell: sa.orm.InstrumentedAttribute[int],
    latitude: sa.orm.InstrumentedAttribute[float],
    longitude: sa.orm.InstrumentedAttribute[float],
) -> list[sa.ColumnElement[bool]]:
    """Conditions for rows inside the box: the grid cells for the index, then the exact box."""
    conditions: list[sa.ColumnElement[bool]] = [
        latitude.between(box.min_lat, box.max_lat),
        longitude.between(box.min_lon, box.max_lon),
    ]
    cells = grid_cells(box)
    if cells is not None:
        conditions.insert(0, cell.in_(cells))
    return conditions


_NEWER_FIX = sa.orm.aliased(LocationFix, name="newer_fix")
"""Built once: making an alias per call costs more than the query it is for."""


def tourists_nearby(session: Session, *, tourist_id: int, lat: float, lon: float, at: datetime) -> int:
    """Distinct other tourists whose latest fix in the 30 minutes before ``at`` is within 1 km.

    Fixes in the cells around the point come from the (cell, timestamp) index; a fix counts only if its
    tourist sent nothing newer up to ``at`` (checked on the (tourist_id, timestamp) index).
    """
    newer = _NEWER_FIX  # the same fix table, as "a newer fix of that tourist"
    box = bounding_box(lat, lon, c.CROWD_RADIUS_KM)
    rows = session.execute(
        sa.select(LocationFix.tourist_id, LocationFix.latitude, LocationFix.longitude).where(
            *_within(box, LocationFix.cell, LocationFix.latitude, LocationFix.longitude),
            LocationFix.timestamp.between(at - c.CROWD_WINDOW, at),
            LocationFix.tourist_id != tourist_id,
            ~sa.exists().where(
                newer.tourist_id == LocationFix.tourist_id,
                newer.timestamp > LocationFix.timestamp,
                newer.timestamp <= at,
            ),
        )
    )
    return len({t for t, la, lo in rows if haversine_km(lat, lon, la, lo) <= c.CROWD_RADIUS_KM})


def recent_movement(
    session: Session, *, tourist_id: int, before: datetime, exclude_fix_id: int | None = None
) -> tuple[PreviousFix | None, list[float]]:
    """The tourist's fix just before ``before`` and the speeds they reported in the hour before it."""
    query = (
        sa.select(LocationFix)
        .where(
            LocationFix.tourist_id == tourist_id,
            LocationFix.timestamp < before,
            LocationFix.timestamp >= before - RECENT_MOVEMENT_WINDOW,
        )
        .order_by(LocationFix.timestamp.desc(), LocationFix.id.desc())
        .limit(RECENT_MOVEMENT_LIMIT)
    )
    if exclude_fix_id is not None:
        query = query.where(LocationFix.id != exclude_fix_id)
    fixes = list(session.scalars(query))
    if not fixes:
        return None, []
    first = fixes[0]
    previous = PreviousFix(first.latitude, first.longitude, first.timestamp, first.speed)
    return previous, [f.speed for f in fixes if f.speed is not None]


def average_score(
    session: Session, *, tourist_id: int, before: datetime, exclude_fix_id: int | None = None
) -> float | None:
    """Mean of the tourist's scored fixes in the 30 days before ``before``; None when there are none."""
    query = sa.select(sa.func.avg(LocationFix.safety_score)).where(
        LocationFix.tourist_id == tourist_id,
        LocationFix.safety_score.is_not(None),
        LocationFix.timestamp < before,
        LocationFix.timestamp >= before - c.TOURIST_HISTORY_WINDOW,
    )
    if exclude_fix_id is not None:
        query = query.where(LocationFix.id != exclude_fix_id)
    value = session.scalar(query)
    return float(value) if value is not None else None


def latest_fix(session: Session, *, tourist_id: int) -> LocationFix | None:
    return session.scalar(
        sa.select(LocationFix)
        .where(LocationFix.tourist_id == tourist_id)
        .order_by(LocationFix.timestamp.desc(), LocationFix.id.desc())
        .limit(1)
    )
