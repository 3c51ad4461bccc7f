"""The zones that decide each fix's zone factor, for a whole batch: array bounds rule out the zones that
cannot be the worst, and only the few that can are measured exactly (``zones.geometry.relation``), so
``scoring.factors.zone_risk`` picks the same zone with the same numbers as from the full list."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import shapely

from safesphere.core.geo import EARTH_RADIUS_KM
from safesphere.scoring import constants as c
from safesphere.scoring.factors import zone_score
from safesphere.scoring.model import ZoneProximity
from safesphere.tracking import gridjoin
from safesphere.tracking.gridjoin import Floats, Ints
from safesphere.tracking.timeline import RecentFix
from safesphere.zones.geometry import ZoneShape, relation
from safesphere.zones.spatial_index import ZoneIndex

BOUND_SLACK_KM = 1e-9
"""Array distances are within ulps of the exact ones; bounds give them this much room (a micrometre)."""
Bools = npt.NDArray[np.bool_]
SEARCH_MARGIN = 1.01
"""Zones are searched a little beyond ZONE_APPROACH_KM, as the index's own envelopes are approximate."""


@dataclass(frozen=True)
class _ZoneArrays:
    """Per zone: the centre and radius (circles), the lon/lat box (polygons), the inside score."""

    shapes: list[ZoneShape]
    lat: Floats
    lon: Floats
    radius: Floats
    polygon: Bools
    box: Floats  # min_lon, min_lat, max_lon, max_lat
    inside_score: Floats  # NaN for safe zones (and any type that sets no score)
    safe: Bools


_cache: dict[int, _ZoneArrays] = {}


def _arrays(shapes: list[ZoneShape]) -> _ZoneArrays:
    """Built once per loaded zone list (the index replaces the list when the table changes)."""
    cached = _cache.get(id(shapes))
    if cached is not None and cached.shapes is shapes:
        return cached
    boxes = [z.polygon.bounds if z.polygon is not None else (math.nan,) * 4 for z in shapes]
    arrays = _ZoneArrays(
        shapes=shapes,
        lat=np.array([z.center_lat for z in shapes], dtype=np.float64),
        lon=np.array([z.center_lon for z in shapes], dtype=np.float64),
        radius=np.array([z.radius_km for z in shapes], dtype=np.float64),
        polygon=np.array([z.polygon is not None for z in shapes], dtype=bool),
        box=np.array(boxes, dtype=np.float64).reshape(len(shapes), 4),
        inside_score=np.array([c.ZONE_SCORE_INSIDE.get(z.type, math.nan) for z in shapes], dtype=np.float64),
        safe=np.array([z.type == "safe" for z in shapes], dtype=bool),
    )
    _cache.clear()
    _cache[id(shapes)] = arrays
    return arrays


def _edge_bounds(zones: _ZoneArrays, zone: Ints, lat: Floats, lon: Floats) -> tuple[Floats, Floats]:
    """(lower, upper) bounds of the km from each point to each zone's edge (negative: inside a circle).
    Circles: the distance to the centre less the radius. Polygons: the distance to their box in the same
    local projection ``relation`` measures in (a lower bound only; the upper bound is left infinite)."""
    to_edge = gridjoin.haversine_km(lat, lon, zones.lat[zone], zones.lon[zone]) - zones.radius[zone]
    box = zones.box[zone]
    km_per_deg = np.radians(1.0) * EARTH_RADIUS_KM
    across = km_per_deg * np.cos(np.radians(lat))
    x_low, x_high = (box[:, 0] - lon) * across, (box[:, 2] - lon) * across
    y_low, y_high = (box[:, 1] - lat) * km_per_deg, (box[:, 3] - lat) * km_per_deg
    dx = np.maximum(np.maximum(x_low, -x_high), 0.0)
    dy = np.maximum(np.maximum(y_low, -y_high), 0.0)
    polygon = zones.polygon[zone]
    lower = np.where(polygon, np.hypot(dx, dy), to_edge) - BOUND_SLACK_KM
    upper = np.where(polygon, np.inf, to_edge + BOUND_SLACK_KM)
    return lower, upper


def _score_bound(inside_score: Floats, distance_km: Floats) -> Floats:
    """``zone_score`` of a bound on the distance (ZONE_SCORE_OUTSIDE from ZONE_APPROACH_KM on)."""
    clipped = np.clip(distance_km, 0.0, c.ZONE_APPROACH_KM)
    return inside_score + (c.ZONE_SCORE_OUTSIDE - inside_score) * clipped / c.ZONE_APPROACH_KM


def deciding_zones(zone_index: ZoneIndex, batch: list[RecentFix]) -> list[list[ZoneProximity]]:
    """Per fix: every restricted/risky zone that may be its worst, and the safe zones it stands in."""
    shapes, tree = zone_index.snapshot()
    found: list[list[ZoneProximity]] = [[] for _ in batch]
    if tree is None or not batch:
        return found
    zones = _arrays(shapes)
    lat = np.array([f.lat for f in batch], dtype=np.float64)
    lon = np.array([f.lon for f in batch], dtype=np.float64)
    dlat = np.degrees(c.ZONE_APPROACH_KM * SEARCH_MARGIN / EARTH_RADIUS_KM)
    dlon = dlat / np.maximum(np.cos(np.radians(np.minimum(np.abs(lat) + dlat, 90.0))), 1e-12)
    query, zone = tree.query(shapely.box(lon - dlon, lat - dlat, lon + dlon, lat + dlat))
    query, zone = query.astype(np.int64), zone.astype(np.int64)
    lower, upper = _edge_bounds(zones, zone, lat[query], lon[query])
    scored = ~np.isnan(zones.inside_score[zone])
    best_bound = np.full(len(batch), c.ZONE_SCORE_OUTSIDE)
    np.minimum.at(best_bound, query[scored], _score_bound(zones.inside_score[zone[scored]], upper[scored]))
    low_score = _score_bound(np.nan_to_num(zones.inside_score[zone]), lower)
    risky = scored & (lower < c.ZONE_APPROACH_KM) & (low_score <= best_bound[query])
    order = np.lexsort((low_score[risky], query[risky]))
    for i, position, bound in zip(
        query[risky][order].tolist(),
        zone[risky][order].tolist(),
        low_score[risky][order].tolist(),
        strict=True,
    ):
        _consider(found[i], shapes[position], batch[i], bound)
    maybe_in_safe = zones.safe[zone] & (lower <= 0.0)
    for i, position in zip(query[maybe_in_safe].tolist(), zone[maybe_in_safe].tolist(), strict=True):
        proximity = _proximity(shapes[position], batch[i])
        if proximity.inside:
            found[i].append(proximity)
    return found


def _consider(found: list[ZoneProximity], shape: ZoneShape, fix: RecentFix, bound: float) -> None:
    """Measure the zone exactly unless its lower bound is already higher than the worst score so far
    (candidates come lowest bound first, so after the first such zone none can win or tie)."""
    worst = min(
        (s for z in found if (s := zone_score(z.type, z.inside, z.distance_km)) is not None),
        default=c.ZONE_SCORE_OUTSIDE,
    )
    if bound > worst:
        return
    found.append(_proximity(shape, fix))


def _proximity(shape: ZoneShape, fix: RecentFix) -> ZoneProximity:
    inside, distance, bearing = relation(shape, fix.lat, fix.lon)
    return ZoneProximity(shape.zone_id, shape.name, shape.type, inside, distance, bearing)
