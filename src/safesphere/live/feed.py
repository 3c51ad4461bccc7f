"""One connection's live feed: every incident and alert change from its start on, each sent once.

The feed polls the database, not an in-process bus, so it sees the changes of every server process (and
host) sharing the database. Each poll reads what changed since its last one, reaching ``overlap`` back:
a change is stamped before its transaction commits, so a poll can miss a change another transaction
stamped earlier and committed later; the overlap catches it, and what was already sent (the same row at
the same stamp) is not sent again. A page that fills up is continued after its last change, in
(updated_at, id) order, so many changes at one moment are all read.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Hashable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio.to_thread
from sqlalchemy.orm import Session
from starlette.requests import Request

from safesphere.alerts.schemas import AlertOut
from safesphere.core import clock
from safesphere.core.config import Settings
from safesphere.core.db import Database
from safesphere.incidents.schemas import IncidentSummary
from safesphere.live import service
from safesphere.live.schemas import LiveHello

PAGE = 500
"""Changes of one kind read per poll; a busier moment is caught up page by page without waiting."""
RETRY_MS = 2000
"""How long a browser's EventSource waits before reconnecting."""


@dataclass
class _Kind:
    """The feed's place in one kind of change (incidents or alerts)."""

    name: str
    read: Callable[[Session, datetime, service.Position | None, int], Sequence[Any]]
    key: Callable[[Any], Hashable]
    payload: Callable[[Any], str]
    page: int
    looked_to: datetime
    """Every change stamped before this, less the overlap, has been read."""
    resume: service.Position | None = None
    """Set while a full page is followed: the next read goes on after this change, with no overlap."""
    sent: dict[Hashable, datetime] = field(default_factory=dict)

    def poll(self, session: Session, *, now: datetime, overlap: timedelta) -> tuple[list[str], bool]:
        """The payloads of changes not sent yet, and whether a full page of news says more are waiting."""
        lower = self.looked_to - overlap
        rows = self.read(session, lower, self.resume, self.page)
        payloads = []
        for row in rows:
            key, stamp = self.key(row), row.updated_at
            if self.sent.get(key) != stamp:
                self.sent[key] = stamp
                payloads.append(self.payload(row))
        full = len(rows) == self.page
        if full:
            self.resume = (rows[-1].updated_at, rows[-1].id)
        else:
            self.resume, self.looked_to = None, now
            forget_before = now - overlap
            self.sent = {key: stamp for key, stamp in self.sent.items() if stamp >= forget_before}
        # A full page of repeats (the overlap re-read at a busy moment) is followed at the normal pace.
        return payloads, full and bool(payloads)

    @property
    def resumes_at(self) -> datetime:
        return self.resume[0] if self.resume is not None else self.looked_to


class Feed:
    """The changes for one connection, from ``since`` on."""

    def __init__(self, *, since: datetime, overlap: timedelta, page: int = PAGE) -> None:
        self.overlap = overlap
        self.kinds = [
            _Kind(
                "incident",
                lambda s, lower, after, limit: service.incidents_changed(
                    session=s, since=lower, after=after, limit=limit
                ),
                lambda incident: incident.incident_id,
                lambda incident: IncidentSummary.model_validate(incident).model_dump_json(),
                page,
                since,
            ),
            _Kind(
                "alert",
                lambda s, lower, after, limit: service.alerts_changed(
                    session=s, since=lower, after=after, limit=limit
                ),
                lambda alert: alert.id,
                lambda alert: AlertOut.from_alert(alert).model_dump_json(),
                page,
                since,
            ),
        ]

    @property
    def cursor(self) -> datetime:
        """Where a reconnecting client resumes (``since``): nothing before it is still to be sent."""
        return min(kind.resumes_at for kind in self.kinds)

    @property
    def resume_id(self) -> str:
        """The cursor as an event id: UTC with a ``Z``, so it goes into a query string as it is."""
        return self.cursor.astimezone(UTC).isoformat().replace("+00:00", "Z")

    def poll(self, session: Session, now: datetime) -> tuple[str, bool]:
        """The SSE text of the changes found (empty if none), and whether more are waiting."""
        text: list[str] = []
        more = False
        for kind in self.kinds:
            payloads, full = kind.poll(session, now=now, overlap=self.overlap)
            text.extend(event(kind.name, payload) for payload in payloads)
            more = more or full
        if text:
            text.append(f"id: {self.resume_id}\n\n")
        return "".join(text), more


def event(name: str, data: str) -> str:
    """One server-sent event (``data`` is one line of JSON)."""
    return f"event: {name}\ndata: {data}\n\n"


async def stream(
    *, request: Request, database: Database, settings: Settings, since: datetime | None
) -> AsyncIterator[str]:
    """The event stream of one connection: a hello (with the id to resume from), then changes as they
    are found, keep-alive comments (with the id) while nothing changes, until ``live_stream_s`` is over
    (the client reconnects and authenticates again, so a revoked account stops receiving within that
    time) or the client goes away."""
    feed = Feed(since=since or clock.now(), overlap=timedelta(seconds=settings.live_overlap_s))
    hello = LiveHello(
        server_time=clock.now(),
        poll_interval_s=settings.live_poll_interval_s,
        stream_s=settings.live_stream_s,
    )
    yield f"retry: {RETRY_MS}\nid: {feed.resume_id}\n" + event("hello", hello.model_dump_json())
    loop = asyncio.get_running_loop()
    started = last_sent = loop.time()

    def poll() -> tuple[str, bool]:
        with database.read_session() as session:
            return feed.poll(session, clock.now())

    while loop.time() - started < settings.live_stream_s:
        if await request.is_disconnected():  # a closed tab stops its polling at once
            return
        text, more = await anyio.to_thread.run_sync(poll)
        if text:
            yield text
            last_sent = loop.time()
        elif loop.time() - last_sent >= settings.live_keepalive_s:
            yield f": keep-alive\nid: {feed.resume_id}\n\n"  # an idle client's resume point moves on
            last_sent = loop.time()
        if not more:
            await asyncio.sleep(settings.live_poll_interval_s)
