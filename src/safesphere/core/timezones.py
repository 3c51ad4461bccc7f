"""Time zones by name and by place: an IANA name checked once, the zone in force at coordinates."""

from __future__ import annotations

from functools import cache, lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from timezonefinder import TimezoneFinder


def checked_zone_name(value: str) -> str:
    """``value`` when it names an IANA time zone (``America/Phoenix``); ValueError otherwise."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {value!r}: use an IANA name such as Europe/Paris") from exc
    return value


@cache
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


@lru_cache(maxsize=1)
def _finder() -> TimezoneFinder:
    return TimezoneFinder()


@lru_cache(maxsize=4096)
def zone_at(lat: float, lon: float) -> ZoneInfo | None:
    """The zone in force at the coordinates; None at sea or where none is known."""
    name = _finder().timezone_at(lng=lon, lat=lat)
    return zone(name) if name else None
