"""The alerts the fixes of a rescoring run need, held in memory: for each fix of a batch, what
``repository.alerts_around`` gives it (same windows, same exclusions, same order)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.orm import Session

from safesphere.alerts.models import Alert, AlertStatus
from safesphere.core.clock import duration_us, microseconds
from safesphere.core.db import epoch_us
from safesphere.scoring import constants as c
from safesphere.scoring.alert_arrays import SEVERITY_INDEX, AlertPairs
from safesphere.scoring.model import AlertObservation
from safesphere.tracking.rescoring import gridjoin
from safesphere.tracking.rescoring.gridjoin import Floats, Ints
from safesphere.tracking.rescoring.timeline import RecentFix

LOOK_BACK = max(c.HISTORY_WINDOW, c.NEARBY_ALERT_WINDOW)
NEARBY_GRID_DEG = 0.02
"""The nearby search's cells (about 2.2 km): its 6-hour window leaves few alerts in a cell, so a 2 km
search is cheapest over ~3 x 4 large cells rather than ~100 small ones."""
NOT_RESOLVED = float(np.iinfo(np.int64).max)
"""The resolution time of an alert that is still open: never."""
NO_TIME = int(np.iinfo(np.int64).min)
"""The resolution time of an alert resolved before the run's fixes (or without a time): it is closed for
all of them (``alerts_around``'s ``(resolved_at or at) > at`` test)."""


_ALERT_COLUMNS = (
    Alert.id, Alert.cell, Alert.latitude, Alert.longitude, Alert.severity, Alert.occurred_at, Alert.type,
    Alert.created_at,
)  # fmt: skip
_COUNTED_TYPE = Alert.type.not_in(c.NOT_COUNTED_ALERT_TYPES)


class RecentAlerts:
    """The alerts any fix of the run may count (from 30 days before ``since`` on, of the counted types), read
    once and then topped up: before each batch the new ones are added and every one's status is read
    again (one narrow query), so each batch sees the alerts as they then stand, as the per-fix queries do.
    They are kept in the order the repository's indexed scan returns them: cell, time, id."""

    def __init__(self, since: datetime) -> None:
        self.since = since
        self.start = since - LOOK_BACK
        self._rows: list[Any] = []  # rows of _ALERT_COLUMNS
        self._max_id = 0
        self._build()

    def refresh(self, session: Session) -> None:
        """Add the alerts stored since the last call, and read every held alert's status again."""
        a = Alert.__table__.c
        new = session.execute(
            sa.select(*_ALERT_COLUMNS).where(a.occurred_at >= self.start, a.id > self._max_id, _COUNTED_TYPE)
        ).all()
        if new:
            self._rows = sorted([*self._rows, *new], key=lambda r: (r.cell, r.occurred_at, r.id))
            self._max_id = max(r.id for r in new)
            self._build()
        # only a resolution after ``since`` can leave an alert open for some fix of the run
        resolved_later = sa.case((a.resolved_at > self.since, epoch_us(a.resolved_at)), else_=None)
        rows = session.execute(
            sa.select(a.id, a.status, resolved_later).where(a.occurred_at >= self.start, _COUNTED_TYPE)
        ).all()
        self._resolved_us = self._resolutions(rows)

    def _resolutions(self, rows: Sequence[sa.Row[Any, Any, Any]]) -> Floats:
        """Per held alert, ``_resolved_us`` of its status row (-inf for an alert gone from the table: it
        counts for nobody)."""
        resolved = np.full(len(self._rows), -np.inf)
        if not rows or not self._rows:
            return resolved
        ids, statuses, resolved_at = zip(*rows, strict=True)
        at = np.array([NO_TIME if t is None else t for t in resolved_at], dtype=np.int64).astype(np.float64)
        status = np.array(statuses, dtype=object)
        value = np.where(status == AlertStatus.resolved.value, at, NOT_RESOLVED)
        value = np.where(np.isin(status, c.NOT_COUNTED_ALERT_STATUSES), -np.inf, value)
        found = np.searchsorted(self._sorted_ids, np.array(ids, dtype=np.int64))
        found = np.minimum(found, len(self._sorted_ids) - 1)
        held = self._sorted_ids[found] == np.array(ids, dtype=np.int64)
        resolved[self._id_order[found[held]]] = value[held]
        return resolved

    def _build(self) -> None:
        rows = self._rows
        ids = np.array([r.id for r in rows], dtype=np.int64)
        self._id_order = np.argsort(ids)
        self._sorted_ids = ids[self._id_order]
        self.observations = [
            AlertObservation(r.latitude, r.longitude, r.severity, r.occurred_at, r.id, r.type) for r in rows
        ]
        self._lat = np.array([r.latitude for r in rows], dtype=np.float64)
        self._lon = np.array([r.longitude for r in rows], dtype=np.float64)
        self._received_us = np.array([microseconds(r.created_at) for r in rows], dtype=np.int64)
        self._severity = np.array([SEVERITY_INDEX.get(r.severity, -1) for r in rows], dtype=np.int64)
        occurred_us = np.array([microseconds(r.occurred_at) for r in rows], dtype=np.int64)
        self._points = gridjoin.TimedPoints(self._lat, self._lon, occurred_us)
        self._recent_points = gridjoin.TimedPoints(self._lat, self._lon, occurred_us, NEARBY_GRID_DEG)

    def around(self, batch: list[RecentFix], skew_tolerance_s: float) -> tuple[FixAlerts, FixAlerts]:
        """(nearby, historical) for each fix: the alerts ``repository.alerts_around`` lists for it, in its
        order, less those its factors would skip as too far away."""
        lat = np.array([f.lat for f in batch], dtype=np.float64)
        lon = np.array([f.lon for f in batch], dtype=np.float64)
        at = np.array([f.time_us for f in batch], dtype=np.int64)
        received = np.array([f.received_us for f in batch], dtype=np.int64)
        ahead = at + duration_us(timedelta(seconds=skew_tolerance_s))
        query, point = self._points.pairs(lat, lon, c.HISTORY_RADIUS_KM, at - duration_us(LOOK_BACK), ahead)
        history = self._per_fix(query, point, at, received)
        nearby_start = at - duration_us(c.NEARBY_ALERT_WINDOW)
        query, point = self._recent_points.pairs(lat, lon, c.NEARBY_ALERT_RADIUS_KM, nearby_start, ahead)
        open_then = self._resolved_us[point] > at[query]
        nearby = self._per_fix(query[open_then], point[open_then], at, received)
        return nearby, history

    def _per_fix(self, query: Ints, point: Ints, at: Ints, received: Ints) -> FixAlerts:
        """Per fix, its alerts in the stored order: not false alarms, received by the fix's receipt."""
        in_time = self._received_us[point] <= received[query]
        keep = in_time & (self._resolved_us[point] > -np.inf)
        order = np.lexsort((point[keep], query[keep]))
        query, point = query[keep][order], point[keep][order]
        pairs = AlertPairs(
            fix=query,
            lat=self._lat[point],
            lon=self._lon[point],
            age_s=(at[query] - self._points.time_us[point]) / 1e6,
            severity=self._severity[point],
        )
        return FixAlerts(
            pairs, gridjoin.group_offsets(query, len(at)).tolist(), point.tolist(), self.observations
        )


@dataclass(frozen=True)
class FixAlerts:
    """Each fix's alerts: as the arrays ``scoring.alert_arrays`` takes, and as a list on demand (for the
    few fixes the arrays leave to the factor itself)."""

    pairs: AlertPairs
    _offsets: list[int]
    _points: list[int]
    _observations: list[AlertObservation]

    def of(self, index: int) -> list[AlertObservation]:
        return [self._observations[k] for k in self._points[self._offsets[index] : self._offsets[index + 1]]]
