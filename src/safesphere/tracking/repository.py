"""The tracking queries. Each is one statement with an indexed prefilter, whatever the data size.

The statements of the location path are built once, with bound parameters, and read columns rather than
ORM objects: building a select, and generating its cache key, costs several times more than running it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import cache
from typing import cast

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from safesphere.alerts.models import Alert, AlertStatus
from safesphere.core.db import epoch_us
from safesphere.geo import BoundingBox, bounding_box, grid_cells, haversine_km
from safesphere.scoring import constants as c
from safesphere.scoring.model import PreviousFix
from safesphere.tracking.models import LocationFix, TouristStatus

RECENT_MOVEMENT_WINDOW = timedelta(hours=1)
"""The tourist's own recent movement that a new speed is compared with."""
RECENT_MOVEMENT_LIMIT = 50
ALERT_LOOKBACK = max(c.HISTORY_WINDOW, c.NEARBY_ALERT_WINDOW)

_alerts = cast(sa.Table, Alert.__table__)
_fixes = cast(sa.Table, LocationFix.__table__)
_statuses = cast(sa.Table, TouristStatus.__table__)


def _box_params(box: BoundingBox, prefix: str = "") -> dict[str, object]:
    """The box's bounds as ``_in_box`` binds them, and the grid cells ``_within`` binds (when few)."""
    params: dict[str, object] = {
        f"{prefix}min_lat": box.min_lat,
        f"{prefix}max_lat": box.max_lat,
        f"{prefix}min_lon": box.min_lon,
        f"{prefix}max_lon": box.max_lon,
    }
    cells = grid_cells(box)
    if cells is not None:
        params[f"{prefix}cells"] = cells
    return params


def _in_box(table: sa.FromClause, prefix: str = "") -> sa.ColumnElement[bool]:
    """The exact box test on ``latitude``/``longitude``, with the bounds bound by ``_box_params``."""
    return sa.and_(
        table.c.latitude.between(sa.bindparam(f"{prefix}min_lat"), sa.bindparam(f"{prefix}max_lat")),
        table.c.longitude.between(sa.bindparam(f"{prefix}min_lon"), sa.bindparam(f"{prefix}max_lon")),
    )


def _within(table: sa.FromClause, prefix: str = "", *, by_cell: bool) -> list[sa.ColumnElement[bool]]:
    """Conditions for rows inside the box: the grid cells for the index (when there are few), then the box."""
    conditions: list[sa.ColumnElement[bool]] = [_in_box(table, prefix)]
    if by_cell:
        conditions.insert(0, table.c.cell.in_(sa.bindparam(f"{prefix}cells", expanding=True)))
    return conditions


@cache
def _alerts_around_query(
    *, nearby_by_cell: bool, history_by_cell: bool
) -> sa.CompoundSelect[int, float, float, str, int, str, bool]:
    """The history rows (1 km box, 30 days), then the nearby rows (2 km box, last 6 h, open then), each an
    indexed range over its own cells and window: one range over the 2 km box's cells for 30 days would read
    about twice the rows, most of which count as neither. Every column tested is in the covering index."""
    a = _alerts.c
    counted = [
        a.type.not_in(c.NOT_COUNTED_ALERT_TYPES),
        a.status.not_in(c.NOT_COUNTED_ALERT_STATUSES),
        # no look-ahead by receipt: only what the server had received when the fix arrived
        a.created_at <= sa.bindparam("received"),
    ]
    columns = (a.id, a.latitude, a.longitude, a.severity, epoch_us(a.occurred_at), a.type)
    history = sa.select(*columns, sa.literal(False).label("nearby")).where(
        *_within(_alerts, "history_", by_cell=history_by_cell),
        a.occurred_at.between(sa.bindparam("since"), sa.bindparam("ahead")),
        *counted,
    )
    nearby = sa.select(*columns, sa.literal(True).label("nearby")).where(
        *_within(_alerts, by_cell=nearby_by_cell),
        a.occurred_at.between(sa.bindparam("recent"), sa.bindparam("ahead")),
        sa.or_(a.status != AlertStatus.resolved.value, a.resolved_at > sa.bindparam("at")),
        *counted,
    )
    return sa.union_all(history, nearby)


AlertRow = tuple[int, float, float, str, int, str]
"""An alert around a fix as ``alerts_around`` reads it: id, latitude, longitude, severity, when (exact
microseconds since the epoch, ``core.db.epoch_us``: no datetime is made per row) and type."""


def alerts_around(
    session: Session, *, lat: float, lon: float, at: datetime, received: datetime, skew_tolerance_s: float
) -> tuple[list[AlertRow], list[AlertRow]]:
    """(nearby: open as of ``at``, 2 km box, 6 h) and (historical: 1 km box, 30 days): the alerts that
    count (``NOT_COUNTED_ALERT_TYPES`` and false alarms never do), received by ``received`` (the fix's
    receipt), whose event time is in the window before ``at`` or up to ``skew_tolerance_s`` after it: a
    device clock a little behind never hides a threat, and rescoring never looks ahead.

    The boxes hold the radii; the score measures the exact distances. Each list is in the index's order.
    """
    params = _box_params(bounding_box(lat, lon, c.NEARBY_ALERT_RADIUS_KM))
    params |= _box_params(bounding_box(lat, lon, c.HISTORY_RADIUS_KM), "history_")
    params |= {
        "since": at - ALERT_LOOKBACK,
        "recent": at - c.NEARBY_ALERT_WINDOW,
        "at": at,
        "ahead": at + timedelta(seconds=skew_tolerance_s),
        "received": received,
    }
    query = _alerts_around_query(nearby_by_cell="cells" in params, history_by_cell="history_cells" in params)
    lists: tuple[list[AlertRow], list[AlertRow]] = ([], [])
    for alert_id, lat_, lon_, severity, time_us, kind, is_nearby in session.execute(query, params).all():
        lists[bool(is_nearby)].append((alert_id, lat_, lon_, severity, time_us, kind))
    history, nearby = lists
    return nearby, history


@cache
def _tourists_nearby_query(*, by_cell: bool) -> sa.Select[int, float, float]:
    """Other tourists' fixes in the box and window that their tourist sent nothing newer than up to ``at``."""
    newer = _fixes.alias("newer_fix")  # the same fix table, as "a newer fix of that tourist"
    f = _fixes.c
    return sa.select(f.tourist_id, f.latitude, f.longitude).where(
        *_within(_fixes, by_cell=by_cell),
        f.timestamp.between(sa.bindparam("since"), sa.bindparam("at")),
        f.tourist_id != sa.bindparam("tourist_id"),
        ~sa.exists().where(
            newer.c.tourist_id == f.tourist_id,
            newer.c.timestamp > f.timestamp,
            newer.c.timestamp <= sa.bindparam("at"),
        ),
    )


def tourists_nearby(session: Session, *, tourist_id: int, lat: float, lon: float, at: datetime) -> int:
    """Distinct other tourists whose latest fix in the 30 minutes before ``at`` is within 1 km.

    Fixes in the cells around the point come from the (cell, timestamp) index; a fix counts only if its
    tourist sent nothing newer up to ``at`` (checked on the (tourist_id, timestamp) index).
    """
    params = _box_params(bounding_box(lat, lon, c.CROWD_RADIUS_KM))
    params |= {"since": at - c.CROWD_WINDOW, "at": at, "tourist_id": tourist_id}
    rows = session.execute(_tourists_nearby_query(by_cell="cells" in params), params).all()
    return len({t for t, la, lo in rows if haversine_km(lat, lon, la, lo) <= c.CROWD_RADIUS_KM})


def _own_fixes_before(*, excluding: bool) -> list[sa.ColumnElement[bool]]:
    """The tourist's fixes in [``since``, ``before``), without the one being rescored if ``excluding``."""
    f = _fixes.c
    conditions = [
        f.tourist_id == sa.bindparam("tourist_id"),
        f.timestamp < sa.bindparam("before"),
        f.timestamp >= sa.bindparam("since"),
    ]
    if excluding:
        conditions.append(f.id != sa.bindparam("exclude_fix_id"))
    return conditions


@cache
def _recent_movement_query(
    *, excluding: bool
) -> sa.Select[float, float, datetime, float | None, float | None]:
    f = _fixes.c
    return (
        sa.select(f.latitude, f.longitude, f.timestamp, f.speed, f.accuracy)
        .where(*_own_fixes_before(excluding=excluding))
        .order_by(f.timestamp.desc(), f.id.desc())
        .limit(RECENT_MOVEMENT_LIMIT)
    )


def _own_fix_params(
    tourist_id: int, before: datetime, since: datetime, exclude_fix_id: int | None
) -> dict[str, object]:
    params: dict[str, object] = {"tourist_id": tourist_id, "before": before, "since": since}
    if exclude_fix_id is not None:
        params["exclude_fix_id"] = exclude_fix_id
    return params


def recent_movement(
    session: Session, *, tourist_id: int, before: datetime, exclude_fix_id: int | None = None
) -> tuple[PreviousFix | None, list[float]]:
    """The tourist's fix just before ``before`` and the speeds they reported in the hour before it."""
    params = _own_fix_params(tourist_id, before, before - RECENT_MOVEMENT_WINDOW, exclude_fix_id)
    fixes = session.execute(_recent_movement_query(excluding=exclude_fix_id is not None), params).all()
    if not fixes:
        return None, []
    first = fixes[0]
    previous = PreviousFix(first.latitude, first.longitude, first.timestamp, first.speed, first.accuracy)
    return previous, [f.speed for f in fixes if f.speed is not None]


@cache
def _average_score_query(*, excluding: bool) -> sa.Select[float | None]:
    f = _fixes.c
    return sa.select(sa.func.avg(f.safety_score)).where(
        *_own_fixes_before(excluding=excluding), f.safety_score.is_not(None)
    )


def average_score(
    session: Session, *, tourist_id: int, before: datetime, exclude_fix_id: int | None = None
) -> float | None:
    """Mean of the tourist's scored fixes in the 30 days before ``before``; None when there are none."""
    params = _own_fix_params(tourist_id, before, before - c.TOURIST_HISTORY_WINDOW, exclude_fix_id)
    value = session.scalar(_average_score_query(excluding=exclude_fix_id is not None), params)
    return float(value) if value is not None else None


def latest_fix(session: Session, *, tourist_id: int) -> LocationFix | None:
    return session.scalar(
        sa.select(LocationFix)
        .where(LocationFix.tourist_id == tourist_id)
        .order_by(LocationFix.timestamp.desc(), LocationFix.id.desc())
        .limit(1)
    )


_INSERT_FIX = sa.insert(_fixes).returning(_fixes.c.id)


def insert_fix(session: Session, *, fix: dict[str, object]) -> int:
    """Store a fix (a row of ``location_fixes``; its cell and created_at default) and return its id: one
    INSERT, without building an ORM object the use case would only read its id back from."""
    fix_id: int = session.execute(_INSERT_FIX, fix).scalar_one()
    return fix_id


_STATUS_COLUMNS = (
    "last_fix_id", "latitude", "longitude", "last_seen", "location_safety_score", "tourist_safety_score",
    "risk_level", "updated_at",
)  # fmt: skip


@cache
def _status_upsert(dialect: str) -> sa.Insert:
    """INSERT the status, or on conflict UPDATE it unless the stored one is newer (SQLite and PostgreSQL
    spell this the same way): one statement, and two first fixes racing cannot both insert."""
    insert = postgresql.insert(_statuses) if dialect == "postgresql" else sqlite.insert(_statuses)
    return insert.on_conflict_do_update(
        index_elements=[_statuses.c.tourist_id],
        set_={name: insert.excluded[name] for name in _STATUS_COLUMNS},
        where=_statuses.c.last_seen <= insert.excluded.last_seen,
    )


def store_status(session: Session, *, status: dict[str, object]) -> None:
    """The tourist's status becomes ``status`` (a row of ``tourist_status``) unless it already holds a
    later fix: an older fix arriving late does not move the tourist back in time."""
    session.execute(_status_upsert(session.get_bind().dialect.name), status)
