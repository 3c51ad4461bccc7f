"""The zones that decide each fix's zone factor, for a whole batch: array bounds rule out the zones that
cannot be the worst, and only the few that can are measured exactly (``zones.geometry.relation``), so
``scoring.factors.zone_risk`` picks the same zone with the same numbers as from the full list."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import shapely

from safesphere.geo import EARTH_RADIUS_KM, haversine_km
from safesphere.scoring import constants as c
from safesphere.scoring.factor_arrays import ZonePairs
from safesphere.tracking.rescoring import gridjoin
from safesphere.tracking.rescoring.gridjoin import Floats, Ints
from safesphere.tracking.rescoring.timeline import RecentFix
from safesphere.zones.geometry import ZoneShape, relation
from safesphere.zones.spatial_index import ZoneIndex

BOUND_SLACK_KM = 1e-9
"""Array distances are within ulps of the exact ones; bounds give them this much room (a micrometre)."""
Bools = npt.NDArray[np.bool_]
POLYGON_RADIUS_SLACK = 1.001
"""Great-circle reach against the local projection ``relation`` measures in: far more than their gap."""
SEARCH_MARGIN = 1.01
"""Zones are searched a little beyond ZONE_APPROACH_KM, as the index's own envelopes are approximate."""


Relation = tuple[bool, float, float | None]
"""``zones.geometry.relation``: (inside, km from the edge, bearing to the nearest edge point)."""


@dataclass(frozen=True)
class _ZoneArrays:
    """Per zone: the centre and radius (circles), the lon/lat box (polygons), the inside score."""

    shapes: list[ZoneShape]
    lat: Floats
    lon: Floats
    radius: Floats
    reach: Floats  # km from the centre to the farthest vertex (polygons), else the radius
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
        reach=np.array([_reach(z) for z in shapes], dtype=np.float64),
        polygon=np.array([z.polygon is not None for z in shapes], dtype=bool),
        box=np.array(boxes, dtype=np.float64).reshape(len(shapes), 4),
        inside_score=np.array([c.ZONE_SCORE_INSIDE.get(z.type, math.nan) for z in shapes], dtype=np.float64),
        safe=np.array([z.type == "safe" for z in shapes], dtype=bool),
    )
    _cache.clear()
    _cache[id(shapes)] = arrays
    return arrays


def _reach(zone: ZoneShape) -> float:
    if zone.polygon is None:
        return zone.radius_km
    return max(
        haversine_km(zone.center_lat, zone.center_lon, y, x) for x, y, *_ in zone.polygon.exterior.coords
    )


def _edge_bounds(zones: _ZoneArrays, zone: Ints, lat: Floats, lon: Floats) -> tuple[Floats, Floats]:
    """(lower, upper) bounds of the km from each point to each zone's edge (negative: inside a circle).
    Circles: the distance to the centre less the radius. Polygons: the distance to their box in the same
    local projection ``relation`` measures in, and at most the centre distance plus the vertices' reach."""
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
    # a polygon's nearest edge point is no farther than its vertices: the centre distance + their reach
    around = (to_edge + zones.radius[zone] + zones.reach[zone]) * POLYGON_RADIUS_SLACK
    upper = np.where(polygon, around, to_edge) + BOUND_SLACK_KM
    return lower, upper


def _score_bound(inside_score: Floats, distance_km: Floats) -> Floats:
    """``zone_score`` of a bound on the distance (ZONE_SCORE_OUTSIDE from ZONE_APPROACH_KM on)."""
    clipped = np.clip(distance_km, 0.0, c.ZONE_APPROACH_KM)
    return inside_score + (c.ZONE_SCORE_OUTSIDE - inside_score) * clipped / c.ZONE_APPROACH_KM


def deciding_zones(zone_index: ZoneIndex, batch: list[RecentFix]) -> ZonePairs:
    """Per fix: every restricted/risky zone that may be its worst, and the safe zones it stands in."""
    shapes, tree = zone_index.snapshot()
    if tree is None or not batch:
        return _zone_pairs(shapes, [], [])
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
    maybe_in_safe = zones.safe[zone] & (lower <= 0.0)
    measure = risky | maybe_in_safe
    pairs = list(zip(query[measure].tolist(), zone[measure].tolist(), strict=True))
    kept: list[tuple[int, int]] = []
    relations: list[Relation] = []
    for pair, found in zip(pairs, _relations(shapes, pairs, batch), strict=True):
        if found[0] or shapes[pair[1]].type != "safe":
            kept.append(pair)
            relations.append(found)
    return _zone_pairs(shapes, kept, relations)


def _zone_pairs(
    shapes: list[ZoneShape], pairs: list[tuple[int, int]], relations: list[Relation]
) -> ZonePairs:
    return ZonePairs(
        fix=np.array([i for i, _ in pairs], dtype=np.int64),
        zone_id=np.array([shapes[z].zone_id for _, z in pairs], dtype=np.int64),
        inside=np.array([r[0] for r in relations], dtype=bool),
        distance_km=np.array([r[1] for r in relations], dtype=np.float64),
        bearing_deg=[r[2] for r in relations],
        name=[shapes[z].name for _, z in pairs],
        type=[shapes[z].type for _, z in pairs],
    )


def _relations(
    shapes: list[ZoneShape], pairs: list[tuple[int, int]], batch: list[RecentFix]
) -> list[Relation]:
    """``relation`` for each (fix, zone) pair: circles one by one, polygons together in array calls."""
    polygons = [k for k, (_, z) in enumerate(pairs) if shapes[z].polygon is not None]
    measured = dict(
        zip(polygons, _polygon_relations(shapes, [pairs[k] for k in polygons], batch), strict=True)
    )
    return [
        measured[k] if k in measured else relation(shapes[z], batch[i].lat, batch[i].lon)
        for k, (i, z) in enumerate(pairs)
    ]


def _polygon_relations(
    shapes: list[ZoneShape], pairs: list[tuple[int, int]], batch: list[RecentFix]
) -> list[Relation]:
    """``relation`` for (fix, polygon) pairs in a few array calls, operation for operation (the same
    doubles): covers, then the outer ring projected about each fix, its distance and nearest point."""
    if not pairs:
        return []
    polygons = [shapes[z].polygon for _, z in pairs]
    points = shapely.points([batch[i].lon for i, _ in pairs], [batch[i].lat for i, _ in pairs])
    covered = shapely.covers(polygons, points).tolist()
    outside = [k for k, inside in enumerate(covered) if not inside]
    found: list[Relation] = [(True, 0.0, None)] * len(pairs)
    if not outside:
        return found
    coords, owner = shapely.get_coordinates(
        shapely.get_exterior_ring([polygons[k] for k in outside]), return_index=True
    )
    lat0 = np.array([batch[pairs[k][0]].lat for k in outside])
    lon0 = np.array([batch[pairs[k][0]].lon for k in outside])
    x_scale = np.array([math.cos(math.radians(batch[pairs[k][0]].lat)) for k in outside])
    x = np.radians(coords[:, 0] - lon0[owner]) * x_scale[owner] * EARTH_RADIUS_KM
    y = np.radians(coords[:, 1] - lat0[owner]) * EARTH_RADIUS_KM
    rings = shapely.linearrings(np.column_stack((x, y)), indices=owner)
    origin = shapely.Point(0.0, 0.0)
    distances = shapely.distance(origin, rings).tolist()
    ends = shapely.get_coordinates(shapely.shortest_line(origin, rings)).reshape(-1, 2, 2)[:, 1].tolist()
    for k, distance, (end_x, end_y) in zip(outside, distances, ends, strict=True):
        found[k] = (False, distance, (math.degrees(math.atan2(end_x, end_y)) + 360.0) % 360.0)
    return found
