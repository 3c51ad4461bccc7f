"""Every recent fix, held in memory for one rescoring run: each tourist's own movement and scores, and
everyone's latest positions for crowd counts. It answers what ``tracking/repository.py`` answers for one
fix (same windows, same order, same exclusions), for a whole batch at once."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import groupby

import numpy as np
import numpy.typing as npt
import sqlalchemy as sa
from sqlalchemy.orm import Session

from safesphere.core.clock import EPOCH, duration_us, microseconds
from safesphere.core.db import epoch_us, table
from safesphere.geo import bounding_box, haversine_km
from safesphere.scoring import constants as c
from safesphere.tracking.models import LocationFix
from safesphere.tracking.repository import RECENT_MOVEMENT_LIMIT, RECENT_MOVEMENT_WINDOW
from safesphere.tracking.rescoring import gridjoin
from safesphere.tracking.rescoring.gridjoin import Floats, Ints

HELD_BEFORE_START = max(RECENT_MOVEMENT_WINDOW, c.CROWD_WINDOW)
"""A fix rescored at ``since`` looks this far back at movement and crowds; older fixes stay in the table."""
EDGE_KM = 1e-6
"""Array distances within this of the crowd radius are measured again with ``geo`` itself."""


@dataclass(slots=True)
class RecentFix:
    id: int
    tourist_id: int
    lat: float
    lon: float
    timestamp: datetime
    time_us: int
    speed: float | None
    score: float | None
    """The stored location score, replaced as soon as this run rescores the fix."""
    accuracy: float | None
    received_us: int
    """When the server received it (``created_at``), exact microseconds since the epoch."""
    altitude: float | None


_fixes = table(LocationFix)
_COLUMNS = (
    _fixes.c.id, _fixes.c.tourist_id, _fixes.c.latitude, _fixes.c.longitude, epoch_us(_fixes.c.timestamp),
    _fixes.c.speed, _fixes.c.safety_score, _fixes.c.accuracy, epoch_us(_fixes.c.created_at),
    _fixes.c.altitude,
)  # fmt: skip
"""Times as exact microseconds computed by the database: a datetime from them costs a fraction of
parsing the stored text."""


class RecentFixes:
    """The fixes since ``start`` (``since`` minus the longest look-back), loaded once and topped up."""

    def __init__(self, start: datetime) -> None:
        self.start = start
        self.by_id: dict[int, RecentFix] = {}
        self._tourists: dict[int, list[RecentFix]] = {}
        self._times: dict[int, list[int]] = {}
        self._max_id = 0
        self._ids: list[int] = []  # ascending
        self._crowd: _Crowd | None = None

    def refresh(self, session: Session) -> None:
        """Take in fixes stored since the last call (one indexed query; the first loads the window)."""
        query = sa.select(*_COLUMNS).where(_fixes.c.timestamp >= self.start, _fixes.c.id > self._max_id)
        rows = session.connection().execute(query).all()
        new = sorted((_held(*row) for row in rows), key=_by_tourist_and_time)
        if new or self._crowd is None:
            self._take(new)
            self._crowd = _Crowd(self._tourists)

    def _take(self, new: list[RecentFix]) -> None:
        """Add fixes sorted by (tourist, time, id) to each tourist's ordered list."""
        self.by_id.update((f.id, f) for f in new)
        self._ids.extend(sorted(f.id for f in new))  # every new id is above the held ones
        self._max_id = max([self._max_id, *(f.id for f in new)])
        for tourist_id, group in groupby(new, key=_tourist):
            fixes = self._tourists.get(tourist_id)
            if fixes is None:
                fixes = self._tourists[tourist_id] = list(group)
            else:
                fixes.extend(group)
                fixes.sort(key=_by_tourist_and_time)
            self._times[tourist_id] = [f.time_us for f in fixes]

    def after(self, after_id: int, since: datetime, size: int) -> list[RecentFix]:
        """The next ``size`` held fixes by id after ``after_id`` with a time from ``since`` on."""
        since_us, found = microseconds(since), []
        ids = self._ids
        for position in range(bisect_right(ids, after_id), len(ids)):
            fix = self.by_id[ids[position]]
            if fix.time_us >= since_us:
                found.append(fix)
                if len(found) == size:
                    break
        return found

    def _between(self, tourist_id: int, start_us: int, end_us: int) -> list[RecentFix]:
        """The tourist's fixes with start <= time < end, oldest first (ties by id, as the index orders)."""
        times = self._times.get(tourist_id, [])
        return self._tourists.get(tourist_id, [])[bisect_left(times, start_us) : bisect_left(times, end_us)]

    def movement(self, fix: RecentFix) -> tuple[RecentFix | None, list[float]]:
        """``repository.recent_movement``: the fix just before and the speeds of the hour before it."""
        window = self._between(fix.tourist_id, fix.time_us - duration_us(RECENT_MOVEMENT_WINDOW), fix.time_us)
        latest = [f for f in reversed(window) if f.id != fix.id][:RECENT_MOVEMENT_LIMIT]
        if not latest:
            return None, []
        return latest[0], [f.speed for f in latest if f.speed is not None]

    def average(self, fix: RecentFix, older_sum: float | None, older_count: int) -> float | None:
        """``repository.average_score``: the SQL average continued over the held fixes in the same order
        with the same sequential sum, so the mean is the same double, rescored scores included."""
        total, count = older_sum or 0.0, older_count
        start = max(self.start, fix.timestamp - c.TOURIST_HISTORY_WINDOW)
        for other in self._between(fix.tourist_id, microseconds(start), fix.time_us):
            if other.score is not None and other.id != fix.id:
                total += other.score
                count += 1
        return total / count if count else None

    def crowd(self, batch: list[RecentFix]) -> list[int]:
        """``repository.tourists_nearby`` for every fix of the batch."""
        if self._crowd is None:
            raise RuntimeError("RecentFixes.refresh() must run before crowd counts")
        return self._crowd.count(batch)


def _held(
    fix_id: int, tourist_id: int, lat: float, lon: float, time_us: int, speed: float | None,
    score: float | None, accuracy: float | None, received_us: int, altitude: float | None,
) -> RecentFix:  # fmt: skip
    timestamp = EPOCH + timedelta(microseconds=time_us)
    return RecentFix(
        fix_id, tourist_id, lat, lon, timestamp, time_us, speed, score, accuracy, received_us, altitude
    )


def _tourist(fix: RecentFix) -> int:
    return fix.tourist_id


def _by_tourist_and_time(fix: RecentFix) -> tuple[int, int, int]:
    return fix.tourist_id, fix.time_us, fix.id


class _Crowd:
    """Everyone's held fixes as arrays, each with the time of its tourist's next fix (for "latest") and
    whether its tourist sent another fix at the very same instant (then both are the latest)."""

    def __init__(self, tourists: dict[int, list[RecentFix]]) -> None:
        fixes = [f for per_tourist in tourists.values() for f in per_tourist]  # by tourist, then time
        self.lat: Floats = np.array([f.lat for f in fixes], dtype=np.float64)
        self.lon: Floats = np.array([f.lon for f in fixes], dtype=np.float64)
        self.tourist: Ints = np.array([f.tourist_id for f in fixes], dtype=np.int64)
        time_us = np.array([f.time_us for f in fixes], dtype=np.int64)
        self.next_us, self.tied = _following(self.tourist, time_us)
        self.points = gridjoin.TimedPoints(self.lat, self.lon, time_us)

    def count(self, batch: list[RecentFix]) -> list[int]:
        lat = np.array([f.lat for f in batch], dtype=np.float64)
        lon = np.array([f.lon for f in batch], dtype=np.float64)
        at = np.array([f.time_us for f in batch], dtype=np.int64)
        tourist = np.array([f.tourist_id for f in batch], dtype=np.int64)
        query, point = self.points.pairs(lat, lon, c.CROWD_RADIUS_KM, at - duration_us(c.CROWD_WINDOW), at)
        keep = (self.tourist[point] != tourist[query]) & (self.next_us[point] > at[query])
        query, point = query[keep], point[keep]
        distance = gridjoin.haversine_km(lat[query], lon[query], self.lat[point], self.lon[point])
        inside = distance <= c.CROWD_RADIUS_KM - EDGE_KM
        for k in np.flatnonzero(np.abs(distance - c.CROWD_RADIUS_KM) < EDGE_KM):
            inside[k] = _exactly_within(batch[query[k]], float(self.lat[point[k]]), float(self.lon[point[k]]))
        single = inside & ~self.tied[point]  # a tourist's only latest fix: counted once as it is
        counts = np.bincount(query[single], minlength=len(batch))
        tied = inside & self.tied[point]
        if tied.any():
            ids = int(self.tourist.max(initial=0)) + 1
            counts += np.bincount(
                np.unique(query[tied] * ids + self.tourist[point[tied]]) // ids, minlength=len(batch)
            )
        return [int(n) for n in counts]


def _following(tourist: Ints, time_us: Ints) -> tuple[Floats, npt.NDArray[np.bool_]]:
    """For fixes sorted by (tourist, time): when the same tourist next sent a fix strictly later (inf if
    never), and whether another of theirs has the very same time."""
    count = len(tourist)
    if not count:
        return np.zeros(0), np.zeros(0, dtype=bool)
    starts = np.flatnonzero(np.r_[True, (tourist[1:] != tourist[:-1]) | (time_us[1:] != time_us[:-1])])
    lengths = np.diff(np.r_[starts, count])
    later = np.full(len(starts), np.inf)
    same_tourist = tourist[starts[1:]] == tourist[starts[:-1]]
    later[:-1] = np.where(same_tourist, time_us[starts[1:]].astype(np.float64), np.inf)
    return np.repeat(later, lengths), np.repeat(lengths > 1, lengths)


def _exactly_within(fix: RecentFix, lat: float, lon: float) -> bool:
    """The repository's own test at the edge: inside the box and within the radius by ``geo``."""
    box = bounding_box(fix.lat, fix.lon, c.CROWD_RADIUS_KM)
    return box.contains(lat, lon) and haversine_km(fix.lat, fix.lon, lat, lon) <= c.CROWD_RADIUS_KM
