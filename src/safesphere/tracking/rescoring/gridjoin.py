"""A vectorised prefilter for batched rescoring: which indexed points lie in the small grid cells around
each query point, within the query's time window. A superset by design: exact tests follow it."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from safesphere.geo import EARTH_RADIUS_KM
from safesphere.scoring.alert_arrays import haversine_km as haversine_km

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]

GRID_DEG = 0.005
"""About 550 m: a 1 km search reads ~5 x 5 small cells, far fewer rows than the 3 x 3 indexed ones."""
BOX_MARGIN = 1.001
"""Boxes a little wider than the radius, so no rounding at the edge can drop a point."""
MAX_CELLS = 400
"""A query box spanning more cells (near a pole, across the antimeridian) is paired with every point."""
MICROSECONDS = 1_000_000


def _rows(lat: Floats, grid_deg: float) -> Ints:
    return np.floor((lat + 90.0) / grid_deg).astype(np.int64)


def _columns(lon: Floats, grid_deg: float) -> Ints:
    return np.floor((lon + 180.0) / grid_deg).astype(np.int64)


def _expand(starts: Ints, counts: Ints) -> tuple[Ints, Ints]:
    """For ranges [start, start + count): (which range, position) of every member, in order."""
    owner = np.repeat(np.arange(len(counts), dtype=np.int64), counts)
    first = np.cumsum(counts) - counts
    positions = np.arange(int(counts.sum()), dtype=np.int64) - np.repeat(first - starts, counts)
    return owner, positions


class TimedPoints:
    """Points with times, sorted by (cell, second) so each cell's time window is one searchsorted range.
    Cells of ``grid_deg``: small for searches that keep many points per cell (a long window), larger for
    searches a short window leaves few points to (then the cells, not the points, are the work)."""

    def __init__(self, lat: Floats, lon: Floats, time_us: Ints, grid_deg: float = GRID_DEG) -> None:
        self.time_us = time_us
        self._grid_deg = grid_deg
        self._columns = round(360 / grid_deg)
        self._origin = int(time_us.min()) if len(time_us) else 0
        seconds = (time_us - self._origin) // MICROSECONDS
        self._span = int(seconds.max()) + 2 if len(time_us) else 2
        cells = _rows(lat, grid_deg) * self._columns + _columns(lon, grid_deg) % self._columns
        keys = cells * self._span + seconds
        self._order = np.argsort(keys, kind="stable").astype(np.int64)
        self._keys = keys[self._order]

    def _second(self, time_us: Ints) -> Ints:
        seconds = (time_us - self._origin) // MICROSECONDS
        return np.clip(seconds, 0, self._span - 1)

    def pairs(
        self, lat: Floats, lon: Floats, radius_km: float, start_us: Ints, end_us: Ints
    ) -> tuple[Ints, Ints]:
        """(query index, point index) of every point near each query with start <= time <= end."""
        if not len(self._keys) or not len(lat):
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty
        dlat = np.degrees(radius_km * BOX_MARGIN / EARTH_RADIUS_KM)
        low, high = np.maximum(lat - dlat, -90.0), np.minimum(lat + dlat, 90.0)
        cos_lat = np.cos(np.radians(np.maximum(np.abs(low), np.abs(high))))
        dlon = np.degrees(radius_km * BOX_MARGIN / (EARTH_RADIUS_KM * np.maximum(cos_lat, 1e-12)))
        grid, columns = self._grid_deg, self._columns
        row0, row1 = _rows(low, grid), _rows(high, grid)
        col0, col1 = _columns(lon - dlon, grid), _columns(lon + dlon, grid)
        width, height = col1 - col0 + 1, row1 - row0 + 1
        wide = (cos_lat < 1e-9) | (width * height > MAX_CELLS)
        narrow = np.flatnonzero(~wide)
        query, k = _expand(np.zeros(len(narrow), dtype=np.int64), (width * height)[narrow])
        query = narrow[query]
        cells = (row0[query] + k // width[query]) * columns + (col0[query] + k % width[query]) % columns
        low_keys = cells * self._span + self._second(start_us)[query]
        high_keys = cells * self._span + self._second(end_us)[query]
        first = np.searchsorted(self._keys, low_keys, side="left").astype(np.int64)
        last = np.searchsorted(self._keys, high_keys, side="right").astype(np.int64)
        owner, position = _expand(first, last - first)
        queries, points = query[owner], self._order[position]
        for index in np.flatnonzero(wide):
            queries = np.concatenate([queries, np.full(len(self._order), index, dtype=np.int64)])
            points = np.concatenate([points, np.arange(len(self._order), dtype=np.int64)])
        times = self.time_us[points]
        keep = (times >= start_us[queries]) & (times <= end_us[queries])
        return queries[keep], points[keep]


def group_offsets(queries: Ints, count: int) -> Ints:
    """Offsets into pairs sorted by query: query i's pairs are [offsets[i], offsets[i + 1])."""
    offsets = np.zeros(count + 1, dtype=np.int64)
    np.cumsum(np.bincount(queries, minlength=count), out=offsets[1:])
    return offsets
