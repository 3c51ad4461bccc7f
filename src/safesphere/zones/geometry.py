"""Where a point stands relative to a zone: inside, or how far from its edge and in which direction.

Polygons are measured in a local equirectangular projection centred on the point (metres), exact to
well under 1% at city scale; circles by great-circle distance to their centre.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from shapely.geometry import Point, Polygon, shape
from shapely.ops import nearest_points

from safesphere.geo import EARTH_RADIUS_KM, haversine_km, initial_bearing_deg


@dataclass(frozen=True)
class ZoneShape:
    """A zone's geometry, ready to measure against."""

    zone_id: int
    name: str
    type: str
    center_lat: float
    center_lon: float
    radius_km: float
    polygon: Polygon | None  # lon/lat coordinates


def parse_polygon(geojson: dict[str, Any]) -> Polygon:
    """A valid shapely Polygon from a GeoJSON Polygon; ValueError names what is wrong."""
    if geojson.get("type") != "Polygon":
        raise ValueError("polygon must be a GeoJSON Polygon")
    try:
        polygon = shape(geojson)
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise ValueError(f"polygon is not valid GeoJSON: {exc}") from exc
    if not isinstance(polygon, Polygon) or polygon.is_empty or not polygon.is_valid:
        raise ValueError("polygon must be a simple, non-empty ring (first point repeated last)")
    for lon, lat, *_ in polygon.exterior.coords:
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise ValueError("polygon coordinates must be [longitude, latitude] within range")
    return polygon


def polygon_center_and_radius(polygon: Polygon) -> tuple[float, float, float]:
    """(lat, lon) of the centroid and the km to the farthest vertex: a circle that holds the polygon."""
    centroid = polygon.centroid
    radius = max(haversine_km(centroid.y, centroid.x, lat, lon) for lon, lat, *_ in polygon.exterior.coords)
    return centroid.y, centroid.x, radius


def _project(lat0: float, lon0: float, lat: float, lon: float) -> tuple[float, float]:
    x = math.radians(lon - lon0) * math.cos(math.radians(lat0)) * EARTH_RADIUS_KM
    y = math.radians(lat - lat0) * EARTH_RADIUS_KM
    return x, y


def relation(zone: ZoneShape, lat: float, lon: float) -> tuple[bool, float, float | None]:
    """(inside, km from the edge (0 inside), bearing to the nearest edge point or None inside)."""
    if zone.polygon is None:
        to_center = haversine_km(lat, lon, zone.center_lat, zone.center_lon)
        if to_center <= zone.radius_km:
            return True, 0.0, None
        return (
            False,
            to_center - zone.radius_km,
            initial_bearing_deg(lat, lon, zone.center_lat, zone.center_lon),
        )
    if zone.polygon.covers(Point(lon, lat)):
        return True, 0.0, None
    projected = Polygon([_project(lat, lon, y, x) for x, y, *_ in zone.polygon.exterior.coords])
    origin = Point(0.0, 0.0)
    nearest = nearest_points(origin, projected.exterior)[1]
    bearing = (math.degrees(math.atan2(nearest.x, nearest.y)) + 360.0) % 360.0
    return False, origin.distance(projected.exterior), bearing
