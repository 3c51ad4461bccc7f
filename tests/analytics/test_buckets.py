"""The analytics window: whole hours of the default zone, the current one included, at most a week."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from safesphere.analytics.buckets import MAX_HOURS, hour_window
from safesphere.core.errors import InvalidInput

NOW = datetime(2026, 3, 14, 10, 20, tzinfo=UTC)


def test_by_default_the_last_24_hours_end_with_the_current_one() -> None:
    window = hour_window(since=None, until=None, now=NOW, zone=UTC)
    assert window.hours == 24 and window.end == datetime(2026, 3, 14, 11, 0, tzinfo=UTC)
    assert window.starts()[0] == datetime(2026, 3, 13, 11, 0, tzinfo=UTC)


def test_hours_follow_the_zone_clock_india_starts_at_half_past() -> None:
    window = hour_window(since=NOW - timedelta(hours=2), until=NOW, now=NOW, zone=ZoneInfo("Asia/Kolkata"))
    assert [s.minute for s in window.starts()] == [30, 30, 30]
    assert window.start == datetime(2026, 3, 14, 7, 30, tzinfo=UTC) and window.end.hour == 10


def test_an_until_on_the_hour_is_left_out_and_a_week_is_the_most() -> None:
    start = datetime(2026, 3, 7, 10, 0, tzinfo=UTC)
    assert hour_window(since=start, until=start + timedelta(hours=MAX_HOURS), now=NOW, zone=UTC).hours == 168
    with pytest.raises(InvalidInput) as too_long:
        hour_window(
            since=start - timedelta(minutes=1), until=start + timedelta(hours=MAX_HOURS), now=NOW, zone=UTC
        )
    assert too_long.value.loc == ("query", "since")
