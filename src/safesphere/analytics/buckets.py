"""The hours an analytics chart covers: whole hours of the default time zone, a bounded number of them.
Pure: datetimes in, a window out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

from safesphere.core.errors import InvalidInput

BUCKET = timedelta(hours=1)
DEFAULT_HOURS = 24
"""Without ``since``: the last day, the current hour included."""
MAX_HOURS = 7 * 24
"""A week of hours: as many points as a chart can show, and a bound on the rows one request reads."""


@dataclass(frozen=True)
class HourWindow:
    """``hours`` consecutive buckets of one hour from ``start`` (aware UTC, on a local hour)."""

    start: datetime
    hours: int

    @property
    def end(self) -> datetime:
        return self.start + self.hours * BUCKET

    def starts(self) -> list[datetime]:
        return [self.start + n * BUCKET for n in range(self.hours)]


def floor_hour(moment: datetime, zone: tzinfo) -> datetime:
    """The start of ``moment``'s hour on the clocks of ``zone`` (India's hours start at :30 UTC)."""
    local = moment.astimezone(zone)
    return local.replace(minute=0, second=0, microsecond=0).astimezone(UTC)


def hour_window(*, since: datetime | None, until: datetime | None, now: datetime, zone: tzinfo) -> HourWindow:
    """The whole hours from ``since``'s hour to the one ``until`` falls in (``until`` on an hour's start is
    left out); by default the last ``DEFAULT_HOURS`` up to now. Aware datetimes in."""
    end_moment = until or now
    end = floor_hour(end_moment, zone)
    if end < end_moment:
        end += BUCKET
    start = floor_hour(since, zone) if since is not None else end - DEFAULT_HOURS * BUCKET
    if start >= end:
        raise InvalidInput("must be after since", loc=("query", "until"))
    hours = round((end - start) / BUCKET)
    if hours > MAX_HOURS:
        raise InvalidInput(f"must be at most {MAX_HOURS} hours before until", loc=("query", "since"))
    return HourWindow(start=start, hours=hours)
