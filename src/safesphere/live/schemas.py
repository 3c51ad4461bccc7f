"""What the live feed sends besides the list views' own shapes (``IncidentSummary``, ``AlertOut``, each
with its ``updated_at``), which a dashboard upserts into its lists."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class LiveHello(BaseModel):
    server_time: datetime
    poll_interval_s: float = Field(description="How often the server looks for changes.")
    stream_s: float = Field(description="The stream ends after this long; reconnect with since=<last id>.")
