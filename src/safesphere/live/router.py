"""The live feed for police and security dashboards: incident and alert changes as server-sent events."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from safesphere.auth.access import AuthorityUser
from safesphere.core import clock
from safesphere.core.dependencies import SettingsDep
from safesphere.core.errors import InvalidInput, responses
from safesphere.core.params import Instant
from safesphere.live import hub

REPLAY_LIMIT = timedelta(hours=24)
"""``since`` reaches back at most this far: older state is what the list endpoints are for."""

router = APIRouter(tags=["live"])


@router.get(
    "/live/events",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"text/event-stream": {}}, "description": "A stream of server-sent events"},
        **responses(401, 403, n422="since is more than 24 hours back or in the future"),
    },
)
async def live_events(
    request: Request,
    settings: SettingsDep,
    _: AuthorityUser,
    since: Annotated[
        Instant | None,
        Query(description="Resume from a previous stream's last event id (at most 24 h back); default now."),
    ] = None,
) -> StreamingResponse:
    """Incident and alert changes as they happen (server-sent events): ``hello`` first, then ``incident``
    (an incident as ``GET /incidents`` lists it) and ``alert`` (as ``GET /alerts``) events, each batch
    followed by an ``id`` to resume from; of two copies of a row, the later ``updated_at`` is newer. The
    stream ends after ``SAFESPHERE_LIVE_STREAM_S``; reconnect with ``since`` set to the last id."""
    start = None
    if since is not None:
        start = clock.ensure_utc(since, naive_zone=settings.tz)
        now = clock.now()
        if start < now - REPLAY_LIMIT or start > now + timedelta(minutes=1):
            raise InvalidInput("since must be within the last 24 hours", loc=("query", "since"))
    return StreamingResponse(
        hub.stream(request=request, hub=request.app.state.live_hub, settings=settings, since=start),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
