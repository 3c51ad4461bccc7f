"""Great-circle geometry against known values and as properties."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from safesphere.geo import (
    MAX_GRID_CELLS,
    bounding_box,
    compass_direction,
    grid_cell,
    grid_cells,
    haversine_km,
    initial_bearing_deg,
)


def test_known_distances() -> None:
    assert math.isclose(haversine_km(48.8566, 2.3522, 51.5074, -0.1278), 343.56, abs_tol=0.5)  # Paris-London
    assert haversine_km(10, 20, 10, 20) == 0
    assert math.isclose(haversine_km(0, 0, 0, 180), math.pi * 6371.0088, rel_tol=1e-9)


def test_bearings_and_compass_words() -> None:
    assert math.isclose(initial_bearing_deg(0, 0, 0, 1), 90.0, abs_tol=1e-9)
    assert math.isclose(initial_bearing_deg(0, 0, 1, 0), 0.0, abs_tol=1e-9)
    assert math.isclose(initial_bearing_deg(0, 0, -1, 0), 180.0, abs_tol=1e-9)
    assert compass_direction(90) == "east"
    assert compass_direction(44) == "north-east"
    assert compass_direction(350) == "north"
    assert compass_direction(225) == "south-west"


lats = st.floats(min_value=-89.9, max_value=89.9)
lons = st.floats(min_value=-180, max_value=180)


@given(lats, lons, st.floats(min_value=0.01, max_value=500), st.floats(0, 1), st.floats(0, 360))
def test_bounding_box_contains_every_point_within_the_radius(
    lat: float, lon: float, radius: float, fraction: float, bearing: float
) -> None:
    # Walk `fraction * radius` km from the centre along `bearing` (the direct geodesic problem).
    d = fraction * radius * 0.999 / 6371.0088
    phi1, lmb1, theta = math.radians(lat), math.radians(lon), math.radians(bearing)
    phi2 = math.asin(math.sin(phi1) * math.cos(d) + math.cos(phi1) * math.sin(d) * math.cos(theta))
    lmb2 = lmb1 + math.atan2(
        math.sin(theta) * math.sin(d) * math.cos(phi1), math.cos(d) - math.sin(phi1) * math.sin(phi2)
    )
    lat2, lon2 = math.degrees(phi2), (math.degrees(lmb2) + 540) % 360 - 180
    assert haversine_km(lat, lon, lat2, lon2) <= radius
    box = bounding_box(lat, lon, radius)
    assert box.contains(lat2, lon2)
    cells = grid_cells(box)
    assert cells is None or grid_cell(lat2, lon2) in cells


def test_a_city_search_touches_a_few_grid_cells() -> None:
    cells = grid_cells(bounding_box(28.6139, 77.2090, 2.0))  # New Delhi, the nearby-alerts radius

    assert cells is not None
    assert grid_cell(28.6139, 77.2090) in cells
    assert 4 <= len(cells) <= 16 <= MAX_GRID_CELLS
    assert grid_cells(bounding_box(89.9, 0.0, 2.0)) is None  # near the pole: box filter only
