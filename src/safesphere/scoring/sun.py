"""The sun's elevation exactly as astral computes it (``astral.sun.elevation``), in two halves.

astral works from whole seconds, and half of its work (the sun's declination and the equation of time)
depends on the moment alone, not the place: that half is computed once per second and shared by every
fix of that second. The place's half follows astral's ``zenith_and_azimuth`` line for line (the same
operations in the same order, so the same doubles; ``tests/scoring/test_sun.py`` holds it to astral).
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from math import acos, cos, degrees, radians, sin

from astral.julian import julianday, julianday_to_juliancentury
from astral.sun import (  # type: ignore[attr-defined]  # public functions astral leaves out of __all__
    eq_of_time,
    refraction_at_zenith,
    sun_declination,
)

MAX_LATITUDE = 89.8
"""astral's own clamp: at the poles its hour-angle formula has no answer."""


@lru_cache(maxsize=8192)
def _sun_at(utc_second: datetime) -> tuple[float, float, float]:
    """(sin, cos of the sun's declination, equation of time in minutes) at that UTC second."""
    century = julianday_to_juliancentury(julianday(utc_second))
    declination = sun_declination(century)
    return sin(radians(declination)), cos(radians(declination)), eq_of_time(century)


def elevation(lat: float, lon: float, when: datetime) -> float:
    """Degrees of the sun's centre above the horizon at (lat, lon) and ``when``, refraction included."""
    latitude = MAX_LATITUDE if lat > MAX_LATITUDE else -MAX_LATITUDE if lat < -MAX_LATITUDE else lat
    offset = when.utcoffset()
    zone = -offset.total_seconds() / 3600.0 if offset is not None else 0.0
    utc = when.astimezone(UTC) if when.tzinfo is not None else when
    sd, cd, eqtime = _sun_at(utc.replace(microsecond=0, tzinfo=None))
    true_solar_time = (
        when.hour * 60.0 + when.minute + when.second / 60.0 + (eqtime + (4.0 * lon) + (60 * zone))
    )
    while true_solar_time > 1440:
        true_solar_time = true_solar_time - 1440
    hour_angle = true_solar_time / 4.0 - 180.0
    if hour_angle < -180:
        hour_angle = hour_angle + 360.0
    csz = cos(radians(latitude)) * cd * cos(radians(hour_angle)) + sin(radians(latitude)) * sd
    zenith = degrees(acos(1.0 if csz > 1.0 else -1.0 if csz < -1.0 else csz))
    return 90.0 - (zenith - refraction_at_zenith(zenith))
