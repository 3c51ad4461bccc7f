"""When a reported threat happened, as the server will use it. Pure.

Engines send naive local time and run on clocks that drift: a naive time is read in the zone of the
key's fixed place, else the key's configured zone, else the server's default; a time further ahead of
the server's receipt than the tolerance is kept as reported, but the incident counts from its receipt.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

from safesphere.core import timezones
from safesphere.core.errors import InvalidInput

EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
"""No detection engine reported before 2000: an earlier time is a clock that was never set."""
FURTHEST_AHEAD = timedelta(days=1)
"""Beyond a day ahead no clock or zone mistake explains it: the report is refused."""
TIMESTAMP_FIELD = ("body", "timestamp")


@dataclass(frozen=True)
class EventTime:
    effective: datetime
    """What alerts, grouping and scores use: the reported time, or the receipt time when that was ahead."""
    reported: datetime | None
    """The engine's own time in UTC, as it said (None when it sent none)."""
    clock_skew_s: float | None
    """How far the reported time was ahead of the receipt, when beyond the tolerance (then replaced)."""


def naive_zone(
    *, latitude: float | None, longitude: float | None, key_timezone: str | None, default: tzinfo
) -> tzinfo:
    """The zone a naive timestamp from this key is read in: its fixed place's, else its own, else the
    server's."""
    if latitude is not None and longitude is not None:
        found = timezones.zone_at(round(latitude, 3), round(longitude, 3))
        if found is not None:
            return found
    if key_timezone:
        return timezones.zone(key_timezone)
    return default


def resolve(
    reported: datetime | None, *, naive_in: tzinfo, received_at: datetime, tolerance_s: float
) -> EventTime:
    """The event time of a report received at ``received_at``; a time before 2000 or more than a day ahead
    is a 422 naming the field."""
    if reported is None:
        return EventTime(effective=received_at, reported=None, clock_skew_s=None)
    if reported.tzinfo is None:
        reported = reported.replace(tzinfo=naive_in)
    reported = reported.astimezone(UTC)
    if reported < EARLIEST:
        raise InvalidInput(f"is before {EARLIEST.year}: the device's clock is not set", loc=TIMESTAMP_FIELD)
    ahead_s = (reported - received_at).total_seconds()
    if ahead_s > FURTHEST_AHEAD.total_seconds():
        raise InvalidInput(
            f"is {ahead_s / 3600:.1f} h ahead of the server's time; at most 24 h is accepted",
            loc=TIMESTAMP_FIELD,
        )
    if ahead_s > tolerance_s:
        return EventTime(effective=received_at, reported=reported, clock_skew_s=round(ahead_s, 3))
    return EventTime(effective=reported, reported=reported, clock_skew_s=None)
