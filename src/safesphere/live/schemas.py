"""What the live feed sends: the list views' own shapes, so a dashboard upserts an event into its list."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from safesphere.incidents.schemas import IncidentSummary


class LiveIncident(IncidentSummary):
    """An incident as ``GET /incidents`` lists it, with the moment of the change that sent it."""

    updated_at: datetime


class LiveHello(BaseModel):
    server_time: datetime
    poll_interval_s: float = Field(description="How often the server looks for changes.")
    stream_s: float = Field(description="The stream ends after this long; reconnect with since=<last id>.")
