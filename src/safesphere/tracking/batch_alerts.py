"""The alerts a batch of fixes needs, read in one query: for each fix, the lists ``repository.alerts_around``
gives it (same windows, same exclusions, same order), built in memory."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import sqlalchemy as sa
from sqlalchemy.orm import Session

from safesphere.alerts.models import Alert, AlertStatus, AlertType
from safesphere.core.geo import EARTH_RADIUS_KM, BoundingBox, bounding_box
from safesphere.scoring import constants as c
from safesphere.scoring.alert_arrays import SEVERITY_INDEX, AlertPairs
from safesphere.scoring.model import AlertObservation
from safesphere.tracking import gridjoin
from safesphere.tracking.gridjoin import Ints
from safesphere.tracking.timeline import RecentFix, duration_us, microseconds

LOOK_BACK = max(c.HISTORY_WINDOW, c.NEARBY_ALERT_WINDOW)
NOT_RESOLVED = float(np.iinfo(np.int64).max)
"""The resolution time of an alert that is still open: never."""


class BatchAlerts:
    """The batch's alerts, ordered as the repository's indexed scan returns them (cell, time, id)."""

    def __init__(self, session: Session, batch: list[RecentFix]) -> None:
        area = _extent(batch, max(c.NEARBY_ALERT_RADIUS_KM, c.HISTORY_RADIUS_KM))
        rows = session.execute(
            sa.select(
                Alert.id, Alert.latitude, Alert.longitude, Alert.severity, Alert.occurred_at, Alert.type,
                Alert.status, Alert.resolved_at, Alert.tourist_id,
            )
            .where(
                Alert.occurred_at.between(
                    min(f.timestamp for f in batch) - LOOK_BACK, max(f.timestamp for f in batch)
                ),
                Alert.latitude.between(area.min_lat, area.max_lat),
                Alert.longitude.between(area.min_lon, area.max_lon),
                Alert.type != AlertType.warning.value,
            )
            .order_by(Alert.cell, Alert.occurred_at, Alert.id)
        ).all()  # fmt: skip
        self.observations = [
            AlertObservation(r.latitude, r.longitude, r.severity, r.occurred_at, r.id, r.type) for r in rows
        ]
        self._lat = np.array([r.latitude for r in rows], dtype=np.float64)
        self._lon = np.array([r.longitude for r in rows], dtype=np.float64)
        self._own = np.array([_own_tourist(r.type, r.tourist_id) for r in rows], dtype=np.int64)
        self._severity = np.array([SEVERITY_INDEX.get(r.severity, -1) for r in rows], dtype=np.int64)
        self._resolved_us = np.array([_resolved_us(r.status, r.resolved_at) for r in rows], dtype=np.float64)
        self._points = gridjoin.TimedPoints(
            self._lat, self._lon, np.array([microseconds(r.occurred_at) for r in rows], dtype=np.int64)
        )

    def around(self, batch: list[RecentFix]) -> tuple[BatchAlertLists, BatchAlertLists]:
        """(nearby, historical) for each fix, as ``repository.alerts_around`` lists them, less the alerts
        its factors would skip as too far away; as lists and as the arrays ``alert_arrays`` takes."""
        lat = np.array([f.lat for f in batch], dtype=np.float64)
        lon = np.array([f.lon for f in batch], dtype=np.float64)
        at = np.array([f.time_us for f in batch], dtype=np.int64)
        tourist = np.array([f.tourist_id for f in batch], dtype=np.int64)
        query, point = self._points.pairs(lat, lon, c.HISTORY_RADIUS_KM, at - duration_us(LOOK_BACK), at)
        history = self._lists(query, point, tourist, at)
        nearby_start = at - duration_us(c.NEARBY_ALERT_WINDOW)
        query, point = self._points.pairs(lat, lon, c.NEARBY_ALERT_RADIUS_KM, nearby_start, at)
        open_then = self._resolved_us[point] > at[query]
        nearby = self._lists(query[open_then], point[open_then], tourist, at)
        return nearby, history

    def _lists(self, query: Ints, point: Ints, tourist: Ints, at: Ints) -> BatchAlertLists:
        """Per fix, its alerts in the stored order, less the fix's own tourist's anomaly alerts."""
        keep = self._own[point] != tourist[query]
        order = np.lexsort((point[keep], query[keep]))
        query, point = query[keep][order], point[keep][order]
        offsets = gridjoin.group_offsets(query, len(at)).tolist()
        points = point.tolist()
        observations = self.observations
        lists = [[observations[k] for k in points[offsets[i] : offsets[i + 1]]] for i in range(len(at))]
        pairs = AlertPairs(
            fix=query,
            lat=self._lat[point],
            lon=self._lon[point],
            age_s=(at[query] - self._points.time_us[point]) / 1e6,
            severity=self._severity[point],
        )
        return BatchAlertLists(lists, pairs)


@dataclass(frozen=True)
class BatchAlertLists:
    lists: list[list[AlertObservation]]
    pairs: AlertPairs


def _resolved_us(status: str, resolved_at: datetime | None) -> float:
    """When the alert stopped counting as open: ``alerts_around``'s ``(resolved_at or at) > at`` test."""
    if status != AlertStatus.resolved.value:
        return NOT_RESOLVED
    return float(microseconds(resolved_at)) if resolved_at is not None else float(np.iinfo(np.int64).min)


def _own_tourist(alert_type: str, tourist_id: int | None) -> int:
    """The tourist whose own anomaly alert this is (left out of their score), else -1."""
    return tourist_id if alert_type == AlertType.anomaly.value and tourist_id is not None else -1


def _extent(batch: list[RecentFix], reach_km: float) -> BoundingBox:
    """A box holding every point within ``reach_km`` of any fix of the batch (the query's prefilter)."""
    lats, lons = [f.lat for f in batch], [f.lon for f in batch]
    dlat = math.degrees(reach_km * gridjoin.BOX_MARGIN / EARTH_RADIUS_KM)
    dlon = bounding_box(max(lats, key=abs), 0.0, reach_km * gridjoin.BOX_MARGIN).max_lon  # the widest span
    west, east = min(lons) - dlon, max(lons) + dlon
    if west < -180.0 or east > 180.0:
        west, east = -180.0, 180.0
    return BoundingBox(max(-90.0, min(lats) - dlat), west, min(90.0, max(lats) + dlat), east)
