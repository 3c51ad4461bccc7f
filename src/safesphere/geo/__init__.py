"""Great-circle geometry on a spherical Earth: distances, bearings, bounding boxes. Pure."""

from __future__ import annotations

import math
from dataclasses import dataclass

EARTH_RADIUS_KM = 6371.0088
"""Mean Earth radius (IUGG); the error against the ellipsoid is under 0.5% anywhere."""
COMPASS_POINTS = ("north", "north-east", "east", "south-east", "south", "south-west", "west", "north-west")


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in kilometres."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlmb = math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def initial_bearing_deg(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Compass bearing (0 = north, 90 = east) to head from the first point towards the second."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dlmb = math.radians(lon2 - lon1)
    x = math.sin(dlmb) * math.cos(phi2)
    y = math.cos(phi1) * math.sin(phi2) - math.sin(phi1) * math.cos(phi2) * math.cos(dlmb)
    return (math.degrees(math.atan2(x, y)) + 360.0) % 360.0


def compass_direction(bearing_deg: float) -> str:
    """The nearest of eight compass points, in words ("north-east")."""
    return COMPASS_POINTS[round(bearing_deg / 45.0) % 8]


@dataclass(frozen=True)
class BoundingBox:
    min_lat: float
    min_lon: float
    max_lat: float
    max_lon: float

    def contains(self, lat: float, lon: float) -> bool:
        return self.min_lat <= lat <= self.max_lat and self.min_lon <= lon <= self.max_lon


def bounding_box(lat: float, lon: float, radius_km: float) -> BoundingBox:
    """A box that contains every point within ``radius_km`` of (lat, lon), for an indexed prefilter.

    Near the poles or across the antimeridian it widens to the full longitude range rather than wrap.
    """
    dlat = math.degrees(radius_km / EARTH_RADIUS_KM)
    min_lat, max_lat = max(-90.0, lat - dlat), min(90.0, lat + dlat)
    cos_lat = math.cos(math.radians(max(abs(min_lat), abs(max_lat))))
    if cos_lat < 1e-9:
        return BoundingBox(min_lat, -180.0, max_lat, 180.0)
    dlon = math.degrees(radius_km / (EARTH_RADIUS_KM * cos_lat))
    if dlon >= 180.0 or lon - dlon < -180.0 or lon + dlon > 180.0:
        return BoundingBox(min_lat, -180.0, max_lat, 180.0)
    return BoundingBox(min_lat, lon - dlon, max_lat, lon + dlon)


GRID_CELL_DEG = 0.02
"""Side of a spatial grid cell in degrees (about 2.2 km north-south): a 2 km search touches about 9 cells."""
GRID_COLUMNS = round(360 / GRID_CELL_DEG)
MAX_GRID_CELLS = 64
"""A search wider than this many cells (near the poles, across the antimeridian) filters by box only."""


def grid_cell(lat: float, lon: float) -> int:
    """The grid cell holding (lat, lon): an integer an index can look up with ``IN``, so a nearby search
    reads only the rows of the few cells around the point, whatever the size of the table."""
    row = math.floor((lat + 90.0) / GRID_CELL_DEG)
    column = math.floor((lon + 180.0) / GRID_CELL_DEG) % GRID_COLUMNS
    return row * GRID_COLUMNS + column


def grid_cells(box: BoundingBox) -> list[int] | None:
    """Every cell that overlaps the box, or None when there would be more than ``MAX_GRID_CELLS``."""
    first_row, last_row = (math.floor((lat + 90.0) / GRID_CELL_DEG) for lat in (box.min_lat, box.max_lat))
    first_col, last_col = (math.floor((lon + 180.0) / GRID_CELL_DEG) for lon in (box.min_lon, box.max_lon))
    if (last_row - first_row + 1) * (last_col - first_col + 1) > MAX_GRID_CELLS:
        return None
    return [
        row * GRID_COLUMNS + column % GRID_COLUMNS
        for row in range(first_row, last_row + 1)
        for column in range(first_col, last_col + 1)
    ]
