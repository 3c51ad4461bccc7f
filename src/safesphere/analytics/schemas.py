"""Response shapes of the hourly response analytics."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class HourOut(BaseModel):
    start: datetime = Field(description="The hour's start (UTC; on an hour of the default time zone).")
    incidents: dict[str, int] = Field(
        description="Incidents seen in the hour by threat level (cases: repeats grouped into one are not "
        "counted again)."
    )
    time_to_notify_mean_ms: int | None = Field(
        description="Mean of the hour's incidents' time to notify (report received to first police "
        "delivery attempt done)."
    )
    time_to_notify_max_ms: int | None
    notified: int = Field(description="Incidents of the hour with a time to notify.")
    time_to_acknowledge_mean_ms: int | None = Field(
        description="Mean of the hour's incidents' time to an officer's acknowledgement."
    )
    time_to_acknowledge_max_ms: int | None
    acknowledged: int = Field(description="Incidents of the hour acknowledged so far.")
    deliveries: dict[str, int] = Field(
        description="Messages queued in the hour by their status now: pending, sending, sent, failed, "
        "cancelled."
    )


class HourlyStatisticsOut(BaseModel):
    since: datetime = Field(description="The first hour's start.")
    until: datetime = Field(description="The last hour's end.")
    bucket_s: int = Field(description="Each bucket's length in seconds (an hour).")
    hours: list[HourOut]
