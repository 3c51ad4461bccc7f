"""The split sun computation gives astral's own elevation, to the last bit, at any place and moment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from astral import Observer
from astral.sun import elevation as astral_elevation
from hypothesis import given, settings
from hypothesis import strategies as st

from safesphere.scoring.sun import elevation

moments = st.integers(min_value=0, max_value=3 * 365 * 86_400 * 10**6).map(
    lambda us: datetime(2025, 1, 1, tzinfo=UTC) + timedelta(microseconds=us)
)
offsets = st.none() | st.integers(min_value=-12 * 60, max_value=14 * 60).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)


@settings(max_examples=2000, deadline=None)
@given(
    st.floats(min_value=-90.0, max_value=90.0),
    st.floats(min_value=-180.0, max_value=180.0),
    moments,
    offsets,
)
def test_elevation_is_astrals_to_the_bit(
    lat: float, lon: float, moment: datetime, offset: timezone | None
) -> None:
    when = moment.astimezone(offset) if offset is not None else moment
    assert elevation(lat, lon, when) == astral_elevation(Observer(latitude=lat, longitude=lon), when)


def test_fixes_in_the_same_second_share_the_moment_half_but_not_the_place() -> None:
    noon = datetime(2026, 11, 20, 11, 0, 0, 250_000, tzinfo=UTC)
    paris, tokyo = (48.8584, 2.2945), (35.6595, 139.7005)

    assert elevation(*paris, noon) == astral_elevation(Observer(*paris), noon) > 20
    assert (
        elevation(*tokyo, noon.replace(microsecond=900_000)) == astral_elevation(Observer(*tokyo), noon) < -20
    )
