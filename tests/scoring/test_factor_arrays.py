"""The factors over arrays (``scoring.factor_arrays``) give each point the very ``FactorResult`` the scalar
factor gives it alone: the time of day anywhere on Earth at any moment (time zones from the batch lookup,
the sun's place half from numpy), and the speed factor for any movement and accuracy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from safesphere.scoring import batch as batch_scoring
from safesphere.scoring import factor_arrays, factors, sun
from safesphere.scoring.factor_arrays import Movement
from safesphere.scoring.factors import CIVIL_TWILIGHT_DEG, SUN_HORIZON_DEG
from safesphere.scoring.model import Fix, PreviousFix

moments = st.integers(min_value=0, max_value=3 * 365 * 86_400 * 10**6).map(
    lambda us: datetime(2025, 1, 1, tzinfo=UTC) + timedelta(microseconds=us)
)
places = st.tuples(st.floats(min_value=-90.0, max_value=90.0), st.floats(min_value=-180.0, max_value=180.0))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(places, moments), min_size=1, max_size=60))
def test_time_of_day_over_arrays_is_the_factors_own(
    points: list[tuple[tuple[float, float], datetime]],
) -> None:
    lat = np.array([p[0][0] for p in points])
    lon = np.array([p[0][1] for p in points])
    when = [p[1] for p in points]

    batch = factor_arrays.time_of_day(lat, lon, when)

    assert batch == [factors.time_of_day(Fix(la, lo, w)) for la, lo, w in zip(lat, lon, when, strict=True)]


def _longitude_where(elevation: float, low: float, high: float, noon: datetime) -> float:
    """The longitude on the equator where the sun's elevation at ``noon`` crosses ``elevation`` (bisection
    between two longitudes on either side of it)."""
    below = sun.elevation(0.0, low, noon) < elevation
    for _ in range(80):
        middle = (low + high) / 2.0
        if (sun.elevation(0.0, middle, noon) < elevation) == below:
            low = middle
        else:
            high = middle
    return low


def test_sun_elevations_are_astrals_wherever_it_decides_anything() -> None:
    """numpy's cos/acos may differ from ``math``'s in the last bits (they do from numpy 2.4 on), so the
    array path is held to what the factor uses: within far less than ``SUN_EDGE_DEG`` everywhere, and
    exactly astral's (handed to ``sun.elevation``) a hair from sunset, civil dusk and every point where
    ``round(x, 1)`` flips; the sweep itself gives the same daylight band and rounded elevation."""
    noon = datetime(2026, 3, 20, 12, tzinfo=UTC)
    sweep = np.linspace(-179.0, 179.0, 20_001).tolist()
    # Morning side of the equator at noon UTC: the elevation rises from -90 (lon -180) to +90 (lon 0).
    edges = [SUN_HORIZON_DEG, CIVIL_TWILIGHT_DEG, *(k / 10.0 + 0.05 for k in range(-80, 20))]
    hairs = [
        _longitude_where(edge, -179.0, 0.0, noon) + offset for edge in edges for offset in (-1e-9, 0.0, 1e-9)
    ]
    lon = np.array(sweep + hairs)
    lat = np.zeros_like(lon)
    when = [noon] * len(lon)

    arrays = factor_arrays.sun_elevations(lat, lon, when)
    expected = np.array([sun.elevation(0.0, x, noon) for x in lon.tolist()])

    assert np.abs(arrays - expected).max() < factor_arrays.SUN_EDGE_DEG / 100
    assert np.array_equal(arrays[len(sweep) :], expected[len(sweep) :])
    for edge in (SUN_HORIZON_DEG, CIVIL_TWILIGHT_DEG):
        assert np.array_equal(arrays > edge, expected > edge)
    assert [round(x, 1) for x in arrays.tolist()] == [round(x, 1) for x in expected.tolist()]


speeds = st.none() | st.floats(min_value=0.0, max_value=400.0)
accuracies = st.none() | st.sampled_from([0.0, 5.0, 150.0, 5000.0]) | st.floats(min_value=0.0, max_value=1e4)
altitudes = st.none() | st.sampled_from([35.0, 5999.9, 6000.0, 11_000.0])


@st.composite
def movements(draw: st.DrawFn) -> tuple[Fix, PreviousFix | None, list[float], bool]:
    at = datetime(2026, 11, 20, 17, tzinfo=UTC)
    lat, lon = draw(st.floats(-60.0, 60.0)), draw(st.floats(-170.0, 170.0))
    fix = Fix(lat, lon, at, draw(speeds), draw(accuracies), draw(altitudes))
    previous = None
    if draw(st.booleans()):
        step = draw(st.sampled_from([0.0, 1e-5, 0.001, 0.05, 0.5, 3.0]))
        seconds = draw(st.sampled_from([0.0, 0.5, 1.0, 10.0, 60.0, 600.0]))
        previous = PreviousFix(lat + draw(st.floats(-step, step)), lon + draw(st.floats(-step, step)),
                               at - timedelta(seconds=seconds), None, draw(accuracies))  # fmt: skip
    recent = draw(st.lists(st.floats(0.0, 60.0), max_size=5))
    return fix, previous, recent, draw(st.booleans())


def _seconds(fix: Fix, previous: PreviousFix | None) -> float:
    return (fix.timestamp - previous.timestamp).total_seconds() if previous is not None else np.nan


@settings(max_examples=40, deadline=None)
@given(st.lists(movements(), min_size=1, max_size=40), st.sampled_from([350 / 3.6, 100 / 3.6]))
def test_speed_anomaly_over_arrays_is_the_factors_own(
    cases: list[tuple[Fix, PreviousFix | None, list[float], bool]], limit: float
) -> None:
    def nan(value: float | None) -> float:
        return np.nan if value is None else value

    fixes = [c[0] for c in cases]
    previous = [c[1] for c in cases]
    movement = Movement(
        speed=np.array([nan(f.speed_mps) for f in fixes]),
        accuracy=np.array([nan(f.accuracy_m) for f in fixes]),
        altitude=np.array([nan(f.altitude_m) for f in fixes]),
        has_previous=np.array([p is not None for p in previous]),
        previous_lat=np.array([p.lat if p else np.nan for p in previous]),
        previous_lon=np.array([p.lon if p else np.nan for p in previous]),
        previous_accuracy=np.array([nan(p.accuracy_m) if p else np.nan for p in previous]),
        seconds_since_previous=np.array(
            [
                (f.timestamp - p.timestamp).total_seconds() if p else np.nan
                for f, p in zip(fixes, previous, strict=True)
            ]
        ),
        recent_speeds=[c[2] for c in cases],
    )
    lat, lon = np.array([f.lat for f in fixes]), np.array([f.lon for f in fixes])
    dark = np.array([c[3] for c in cases])

    batch = factor_arrays.speed_anomaly(lat, lon, movement, dark, limit)

    assert batch == [
        factors.speed_anomaly(f, p, r, max_ground_speed_mps=limit, dark_in_risky_zone=d)
        for f, p, r, d in cases
    ]


halves = st.integers(min_value=-(10**6), max_value=10**6).map(lambda n: (n + 0.5) / 100)
"""x.xx5 values: their doubles lie a hair either side of a half, where rounding is decided by the bits."""


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(min_value=-1e4, max_value=1e4) | halves, min_size=1, max_size=50))
def test_round_2_over_arrays_is_pythons_round(values: list[float]) -> None:
    assert batch_scoring.round_2(np.array(values)) == [round(v, 2) for v in values]
