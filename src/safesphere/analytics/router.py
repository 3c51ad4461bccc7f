"""``GET /statistics/hourly``: the response analytics an officer charts over time."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from safesphere.analytics import buckets, service
from safesphere.analytics.schemas import HourlyStatisticsOut, HourOut
from safesphere.auth.access import AuthorityUser
from safesphere.core import clock
from safesphere.core.dependencies import ReadSession, SettingsDep
from safesphere.core.errors import responses
from safesphere.core.params import Instant

SINCE = "From this moment's hour (naive: default zone); default 24 hours back."
UNTIL = "To the end of this moment's hour (naive: default zone); default now."

router = APIRouter(tags=["incidents"], responses=responses(401, 403))


@router.get("/statistics/hourly", response_model=HourlyStatisticsOut)
def hourly_statistics(
    session: ReadSession,
    settings: SettingsDep,
    _: AuthorityUser,
    since: Annotated[
        Instant | None,
        Query(description="From this moment's hour (naive: default zone); default a day back."),
    ] = None,
    until: Annotated[
        Instant | None,
        Query(description="To the end of this moment's hour (naive: default zone); default now."),
    ] = None,
) -> HourlyStatisticsOut:
    """Response analytics per hour, at most a week of hours: incidents by threat level, mean and longest
    time to notify and to acknowledge, and the messages queued by their status (failed ones included)."""
    zone = settings.tz
    window = buckets.hour_window(
        since=clock.ensure_utc(since, naive_zone=zone) if since is not None else None,
        until=clock.ensure_utc(until, naive_zone=zone) if until is not None else None,
        now=clock.now(),
        zone=zone,
    )
    hours = service.hourly(session=session, window=window)
    return HourlyStatisticsOut(
        since=window.start,
        until=window.end,
        bucket_s=int(buckets.BUCKET.total_seconds()),
        hours=[
            HourOut(
                start=start,
                incidents=hour.incidents,
                time_to_notify_mean_ms=hour.time_to_notify.mean_ms,
                time_to_notify_max_ms=hour.time_to_notify.max_ms,
                notified=hour.time_to_notify.count,
                time_to_acknowledge_mean_ms=hour.time_to_acknowledge.mean_ms,
                time_to_acknowledge_max_ms=hour.time_to_acknowledge.max_ms,
                acknowledged=hour.time_to_acknowledge.count,
                deliveries=hour.deliveries,
            )
            for start, hour in zip(window.starts(), hours, strict=True)
        ],
    )
