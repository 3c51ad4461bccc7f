"""The batched rescoring's prefilter never drops a point it should pair: every point within the radius
and the time window of a query is among its pairs, near the poles and the antimeridian too, with small
and large cells."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from safesphere.geo import haversine_km
from safesphere.tracking.rescoring.gridjoin import TimedPoints

HOUR_US = 3_600_000_000


@st.composite
def places(draw: st.DrawFn) -> tuple[float, float]:
    """Somewhere on Earth, often close to a pole or the antimeridian."""
    lat = draw(st.one_of(st.floats(-89.9, 89.9), st.floats(88.0, 89.99), st.floats(-60.0, 60.0)))
    lon = draw(st.one_of(st.floats(-180.0, 180.0), st.floats(179.0, 180.0), st.floats(-180.0, -179.0)))
    return lat, lon


@st.composite
def scenes(draw: st.DrawFn) -> tuple[list[tuple[float, float, int]], list[tuple[float, float, int]]]:
    centre_lat, centre_lon = draw(places())

    def around() -> tuple[float, float, int]:
        lat = max(-90.0, min(90.0, centre_lat + draw(st.floats(-0.03, 0.03))))
        lon = ((centre_lon + draw(st.floats(-0.05, 0.05)) + 180.0) % 360.0) - 180.0
        return lat, lon, draw(st.integers(0, 10 * HOUR_US))

    return [around() for _ in range(draw(st.integers(1, 40)))], [
        around() for _ in range(draw(st.integers(1, 10)))
    ]


@settings(max_examples=150, deadline=None)
@given(scenes(), st.sampled_from([0.5, 1.0, 2.0]), st.sampled_from([0.005, 0.02]))
def test_every_point_in_radius_and_window_is_paired(
    scene: tuple[list[tuple[float, float, int]], list[tuple[float, float, int]]],
    radius_km: float,
    grid: float,
) -> None:
    points, queries = scene
    index = TimedPoints(
        np.array([p[0] for p in points]),
        np.array([p[1] for p in points]),
        np.array([p[2] for p in points]),
        grid,
    )
    at = np.array([q[2] for q in queries])
    query, point = index.pairs(
        np.array([q[0] for q in queries]), np.array([q[1] for q in queries]), radius_km, at - HOUR_US, at
    )
    paired = set(zip(query.tolist(), point.tolist(), strict=True))

    assert len(paired) == len(query)  # each pair once
    for i, (lat, lon, when) in enumerate(queries):
        for k, (p_lat, p_lon, p_when) in enumerate(points):
            wanted = when - HOUR_US <= p_when <= when and haversine_km(lat, lon, p_lat, p_lon) <= radius_km
            if wanted:
                assert (i, k) in paired
            if (i, k) in paired:
                assert when - HOUR_US <= p_when <= when  # the window is exact; only space is a superset
