"""One process's live feed for all its streams: one poller reads incident and alert changes and hands
each batch to every open stream, so a hundred dashboards cost what one does.

On PostgreSQL the poller looks when another instance (or this one) announces a change to ``incidents``
or ``alerts`` (``core.announcements``), and every ``announcements_catch_up_s`` in case one was lost;
without a listener (SQLite, or the database restarting) it looks every ``live_poll_interval_s``. A stream
that resumes from an earlier moment (``since``) first reads its own way up to now, then joins.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Hashable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from fastapi import FastAPI
from starlette.requests import Request

from safesphere.core import clock
from safesphere.core.announcements import Announcements
from safesphere.core.config import Settings
from safesphere.core.db import Database
from safesphere.live.feed import Change, Feed
from safesphere.live.schemas import LiveHello

log = logging.getLogger(__name__)

TOPICS = ("incidents", "alerts")
"""The announced tables the feed reads."""
ANNOUNCED_GAP_S = 0.05
"""While announcements pour in, the poller looks at most this often: each look reads all that committed
meanwhile, so a flood of reports costs 20 looks a second, not one per report."""
QUEUE_LIMIT = 1000
"""Batches a stream may fall behind by (a client that stopped reading) before it is ended; its client
reconnects with ``since`` and catches up from the database."""
WAKE_S = 1.0
"""A stream waiting for news checks this often whether its client went away."""
RETRY_MS = 2000
"""How long a browser's EventSource waits before reconnecting."""


def resume_id(moment: datetime) -> str:
    """A moment as an event id: UTC with a ``Z``, so it goes into a query string as it is."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class Batch:
    changes: list[Change]
    resume_id: str


@dataclass(eq=False)
class Subscription:
    queue: asyncio.Queue[Batch] = field(default_factory=lambda: asyncio.Queue(QUEUE_LIMIT))
    overflowed: bool = False


class LiveHub:
    """The poller and its subscribers (streams). Lives on the event loop; polls in a worker thread."""

    def __init__(self, database: Database, settings: Settings, announcements: Announcements) -> None:
        self.database = database
        self.settings = settings
        self.announcements = announcements
        self.feed: Feed | None = None
        self._subscriptions: set[Subscription] = set()
        self._wanted = asyncio.Event()
        self._announced = asyncio.Event()

    @property
    def overlap(self) -> timedelta:
        return timedelta(seconds=self.settings.live_overlap_s)

    @property
    def resume_id(self) -> str:
        """Where a stream fed by the hub resumes: the hub has read everything before it."""
        return self.feed.resume_id if self.feed is not None else resume_id(clock.now())

    @property
    def reads_from(self) -> datetime:
        """No change stamped before this can come from the hub again."""
        return (self.feed.cursor if self.feed is not None else clock.now()) - self.overlap

    def subscribe(self) -> Subscription:
        subscription = Subscription()
        self._subscriptions.add(subscription)
        self._wanted.set()
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        self._subscriptions.discard(subscription)

    async def run(self) -> None:
        for topic in TOPICS:
            self.announcements.hear(topic, self._announced.set)
        try:
            while True:
                await self._wanted.wait()
                if self.feed is None:
                    self.feed = Feed(since=clock.now(), overlap=self.overlap)
                self._announced.clear()
                more = await self._poll_and_hand_out(self.feed)
                if not self._subscriptions:  # idle: the next subscriber starts a fresh feed
                    self.feed = None
                    self._wanted.clear()
                elif not more:
                    await self._rest()
        finally:
            for topic in TOPICS:
                self.announcements.forget(topic, self._announced.set)

    async def _poll_and_hand_out(self, feed: Feed) -> bool:
        try:
            changes, more = await asyncio.to_thread(self._poll, feed)
        except Exception:
            log.exception("the live feed could not read changes; trying again")
            return False
        if changes:
            batch = Batch(changes, feed.resume_id)
            for subscription in list(self._subscriptions):
                try:
                    subscription.queue.put_nowait(batch)
                except asyncio.QueueFull:
                    subscription.overflowed = True
                    self._subscriptions.discard(subscription)
        return more

    def _poll(self, feed: Feed) -> tuple[list[Change], bool]:
        with self.database.read_session() as session:
            return feed.poll(session, clock.now())

    async def _rest(self) -> None:
        """Until the next announcement (at most ``announcements_catch_up_s``), or ``live_poll_interval_s``
        without a listener; at least ``ANNOUNCED_GAP_S`` after the last look when announcements arrive."""
        if self.announcements.listening:
            await asyncio.sleep(ANNOUNCED_GAP_S)
            timeout = self.settings.announcements_catch_up_s
        else:
            timeout = self.settings.live_poll_interval_s
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._announced.wait(), timeout)


async def run_hub(app: FastAPI) -> None:
    """The server's live feed task."""
    hub: LiveHub = app.state.live_hub
    await hub.run()


def event(name: str, data: str) -> str:
    """One server-sent event (``data`` is one line of JSON)."""
    return f"event: {name}\ndata: {data}\n\n"


def render(changes: Iterable[Change], resume: str) -> str:
    """The SSE text of a batch of changes, followed by the id to resume from (empty if none)."""
    text = "".join(event(change.kind, change.payload) for change in changes)
    return f"{text}id: {resume}\n\n" if text else ""


async def _replay(
    *, database: Database, since: datetime, overlap: timedelta
) -> AsyncIterator[tuple[list[Change], str]]:
    """A resuming stream's own reads from ``since`` up to now, a page at a time."""
    feed = Feed(since=since, overlap=overlap)

    def poll() -> tuple[list[Change], bool]:
        with database.read_session() as session:
            return feed.poll(session, clock.now())

    more = True
    while more:
        changes, more = await asyncio.to_thread(poll)
        yield changes, feed.resume_id


async def stream(
    *, request: Request, hub: LiveHub, settings: Settings, since: datetime | None
) -> AsyncIterator[str]:
    """The event stream of one connection: a hello (with the id to resume from), the changes since
    ``since`` if given, then the hub's changes as they are found, keep-alive comments (with the id) while
    nothing changes, until ``live_stream_s`` is over (the client reconnects and authenticates again, so a
    revoked account stops receiving within that time) or the client goes away."""
    subscription = hub.subscribe()  # before the hello: a client that has it misses nothing after it
    try:
        hello = LiveHello(
            server_time=clock.now(),
            poll_interval_s=settings.live_poll_interval_s,
            stream_s=settings.live_stream_s,
        )
        yield f"retry: {RETRY_MS}\nid: {resume_id(since or clock.now())}\n" + event(
            "hello", hello.model_dump_json()
        )
        replayed: dict[tuple[str, Hashable], datetime] = {}
        if since is not None:
            async for changes, resume in _replay(database=hub.database, since=since, overlap=hub.overlap):
                replayed.update(((c.kind, c.key), c.stamp) for c in changes)
                if text := render(changes, resume):
                    yield text
        following = _follow(
            request=request, hub=hub, settings=settings, subscription=subscription, replayed=replayed
        )
        async for text in following:
            yield text
    finally:
        hub.unsubscribe(subscription)


async def _follow(
    *,
    request: Request,
    hub: LiveHub,
    settings: Settings,
    subscription: Subscription,
    replayed: dict[tuple[str, Hashable], datetime],
) -> AsyncIterator[str]:
    """The hub's batches (less what the replay already sent) and keep-alives, until the stream ends."""
    loop = asyncio.get_running_loop()
    started = last_sent = loop.time()
    while (left := settings.live_stream_s - (loop.time() - started)) > 0:
        if subscription.overflowed or await request.is_disconnected():
            return
        try:
            batch = await asyncio.wait_for(subscription.queue.get(), timeout=min(left, WAKE_S))
        except TimeoutError:
            if loop.time() - last_sent >= settings.live_keepalive_s:
                yield f": keep-alive\nid: {hub.resume_id}\n\n"  # an idle client's resume point moves on
                last_sent = loop.time()
            continue
        changes = batch.changes
        if replayed:
            changes = [c for c in changes if replayed.get((c.kind, c.key)) != c.stamp]
            oldest = hub.reads_from
            for key in [key for key, stamp in replayed.items() if stamp < oldest]:
                del replayed[key]
        if text := render(changes, batch.resume_id):
            yield text
            last_sent = loop.time()
