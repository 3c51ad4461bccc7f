"""The delivery worker: claims due deliveries, sends them, records every attempt, retries with backoff.

It runs as an asyncio task in each server process. Claims are atomic (a conditional UPDATE stamped
with a fresh claim token), so any number of processes can share one database; a claim expires after a
lease, so rows held by a process that died (``kill -9``) are sent by the next worker that looks.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import random
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

import httpx
import sqlalchemy as sa
from fastapi import FastAPI
from sqlalchemy.orm import Session

from safesphere.core import clock
from safesphere.core.announcements import Announcements
from safesphere.core.config import Settings
from safesphere.core.db import Database, UTCDateTime, table
from safesphere.core.limits import InFlight
from safesphere.core.writer import Writer, alone
from safesphere.notify import hooks, outbox, push
from safesphere.notify.models import Delivery, DeliveryAttempt, DeliveryStatus
from safesphere.notify.routing import LOG_CHANNEL, ChannelSpec
from safesphere.notify.senders import Message, SendResult, send
from safesphere.notify.webpush import PushTarget

log = logging.getLogger(__name__)

CLAIM_BATCH = 64
"""Deliveries claimed per round at most (and never more than the process sends at once,
``delivery_concurrency``); more wait for the next round a few milliseconds later."""
LEASE_MARGIN_S = 5.0
"""What a claim's lease allows beyond the send itself: the round's other two transactions (reading the
channels, recording the attempts), each of which may wait up to ``db_pool_timeout_s`` for a connection."""
ROUND_DUTY = 0.2
"""The share of its process's time a busy worker keeps to: a round costs two transactions (about 2.5 ms
of CPU) however many deliveries it sends, so one round per report took a quarter of the process at
100 reports/s."""
T = TypeVar("T")


@dataclass(frozen=True)
class Claimed:
    id: int
    token: str
    channel: str
    attempt: int
    message: Message


def lease_s(settings: Settings) -> float:
    """How long a claim holds its deliveries: every claimed message is sent at once (a round claims no
    more than ``delivery_concurrency``) and each send is cut off at ``delivery_timeout_s``, so a lease
    that outlasts one send and the round's bookkeeping is never overtaken by a live sender."""
    if settings.delivery_lease_s is not None:
        return settings.delivery_lease_s
    return settings.delivery_timeout_s + LEASE_MARGIN_S


def backoff_s(attempt: int, settings: Settings, rng: random.Random | None = None) -> float:
    """Full jitter: uniform in [0, min(max, base x 2^(attempt-1))] ("exponential backoff and jitter")."""
    ceiling = min(settings.delivery_backoff_max_s, settings.delivery_backoff_base_s * 2 ** (attempt - 1))
    return (rng or random).uniform(0, ceiling)


# The worker runs a claim and a record per round, so its statements are built once and run as Core on
# the session's connection (a third of the ORM's Python work per statement).
_D = table(Delivery).c


def _due(d: Any) -> sa.ColumnElement[bool]:
    """Pending and due, or leased by a process that died (its lease ran out): ``d`` is a table's columns."""
    return sa.or_(
        sa.and_(d.status == DeliveryStatus.pending.value, d.next_attempt_at <= sa.bindparam("now")),
        sa.and_(d.status == DeliveryStatus.sending.value, d.lease_expires_at < sa.bindparam("now")),
    )


_IDS: sa.BindParameter[list[int]] = sa.bindparam("ids", expanding=True)
_Q = table(Delivery).alias("due")
_DUE_IDS = (
    sa.select(_Q.c.id)
    .where(_due(_Q.c))
    .order_by(_Q.c.next_attempt_at)
    .limit(sa.bindparam("limit"))
    # PostgreSQL: rows another process is claiming right now are passed over, not waited for (two
    # workers share the queue instead of queueing on each other's row locks). SQLite ignores it: its
    # writers take turns on the database's write lock.
    .with_for_update(skip_locked=True)
)
_CLAIMED_COLUMNS = (
    _D.id, _D.channel, _D.attempts, _D.idempotency_key, _D.recipient, _D.subject, _D.payload, _D.source_kind,
    _D.incident_id,
)  # fmt: skip
_CLAIM = (
    sa.update(table(Delivery))
    # Due again in the outer condition, as a guard: a row claimed and committed by another worker since
    # this statement's snapshot is left out.
    .where(_D.id.in_(_DUE_IDS), _due(_D))
    .values(
        status=DeliveryStatus.sending.value,
        claim_token=sa.bindparam("token"),
        lease_expires_at=sa.bindparam("lease_expires_at"),
        attempts=_D.attempts + 1,
    )
    .returning(*_CLAIMED_COLUMNS)
)
_CANCEL = (
    sa.update(table(Delivery))
    .where(_D.id.in_(_IDS))
    .values(status=DeliveryStatus.cancelled.value, claim_token=None, lease_expires_at=None)
)


def claim_due(database: Database, settings: Settings, limit: int | None = None) -> list[Claimed]:
    """``claim_in`` as a transaction of its own."""
    return alone(database, functools.partial(claim_in, settings=settings, limit=limit))


def claim_in(session: Session, settings: Settings, limit: int | None = None) -> list[Claimed]:
    """In the caller's transaction (a unit of the process's writer): atomically take up to ``limit``
    (default: what the process sends at once, at most ``CLAIM_BATCH``) due deliveries (pending and due,
    or leased by a dead process) in one statement, leased for ``lease_s``. A delivery its source no
    longer wants (a ``hooks.on_claimed`` hook says so: an escalation page of an incident acknowledged
    meanwhile) is cancelled instead."""
    now = clock.now()
    token = secrets.token_hex(16)
    lease = now + timedelta(seconds=lease_s(settings))
    if limit is None:
        limit = min(CLAIM_BATCH, settings.delivery_concurrency)
    connection = session.connection()
    rows = connection.execute(
        _CLAIM, {"now": now, "limit": limit, "token": token, "lease_expires_at": lease}
    ).all()
    if not rows:
        return []
    cancelled = hooks.unwanted(
        connection=connection,
        claimed=[hooks.Claim(row.id, row.source_kind, row.incident_id) for row in rows],
    )
    if cancelled:
        connection.execute(_CANCEL, {"ids": cancelled})
        log.info("cancelled %d deliveries their sources no longer want", len(cancelled))
    return [
        Claimed(
            id=row.id,
            token=token,
            channel=row.channel,
            attempt=row.attempts,
            message=Message(row.idempotency_key, row.recipient, row.subject, dict(row.payload)),
        )
        for row in sorted(rows, key=lambda row: row.id)
        if row.id not in cancelled
    ]


@dataclass(frozen=True)
class Attempt:
    """One finished try at sending a claimed delivery."""

    claimed: Claimed
    result: SendResult
    started_at: datetime
    finished_at: datetime
    latency_ms: float


_INSERT_ATTEMPTS = sa.insert(table(DeliveryAttempt))
_HELD = sa.select(
    _D.id, _D.claim_token, _D.attempts, _D.incident_id, _D.audience, _D.source_kind,
    _D.source_id,
).where(_D.id.in_(_IDS))  # fmt: skip
_SET_STATE = (
    sa.update(table(Delivery))
    .where(_D.id == sa.bindparam("b_id"), _D.claim_token == sa.bindparam("b_token"))
    .values(
        status=sa.bindparam("b_status"),
        sent_at=sa.bindparam("b_sent_at"),
        failed_at=sa.bindparam("b_failed_at"),
        last_error=sa.bindparam("b_last_error"),
        next_attempt_at=sa.func.coalesce(
            sa.bindparam("b_next_attempt_at", type_=UTCDateTime), _D.next_attempt_at
        ),
        claim_token=None,
        lease_expires_at=None,
    )
)


def record_attempts(database: Database, settings: Settings, attempts: list[Attempt]) -> None:
    """``record_attempts_in`` as a transaction of its own."""
    alone(database, functools.partial(record_attempts_in, settings=settings, attempts=attempts))


def record_attempts_in(session: Session, settings: Settings, attempts: list[Attempt]) -> None:
    """A round's attempts in the caller's transaction (a unit of the process's writer): their rows, each
    delivery's next state (sent / retry later / failed) and what that changes at their sources. A delivery
    reclaimed after our lease ran out keeps its new owner's state (the update matches on our claim token);
    the attempt is history all the same."""
    if not attempts:
        return
    connection = session.connection()
    connection.execute(_INSERT_ATTEMPTS, [_attempt_row(a) for a in attempts])
    held = {row.id: row for row in connection.execute(_HELD, {"ids": [a.claimed.id for a in attempts]})}
    states, finished = [], []
    for attempt in attempts:
        row = held.get(attempt.claimed.id)
        if row is None or row.claim_token != attempt.claimed.token:
            continue
        state = _next_state(row, attempt, settings)
        states.append(state)
        finished.append(
            hooks.Finished(row.incident_id, row.audience, row.source_kind, row.source_id,
                             state["b_status"], attempt.finished_at)
        )  # fmt: skip
    if states:
        connection.execute(_SET_STATE, states)
    gone = [a.claimed.message.address for a in attempts if a.result.gone]
    push.remove(connection=connection, subscription_ids=push.subscription_ids(gone))
    hooks.after_attempts(session=session, finished=finished)


def _attempt_row(attempt: Attempt) -> dict[str, object]:
    result = attempt.result
    return {
        "delivery_id": attempt.claimed.id,
        "number": attempt.claimed.attempt,
        "started_at": attempt.started_at,
        "finished_at": attempt.finished_at,
        "latency_ms": round(attempt.latency_ms, 2),
        "outcome": "sent" if result.ok else "error",
        "status_code": result.status_code,
        "error": result.error,
    }


def _next_state(row: Any, attempt: Attempt, settings: Settings) -> dict[str, Any]:
    """The delivery's next state after ``attempt``: sent, failed for good, or pending until its backoff."""
    result, finished_at = attempt.result, attempt.finished_at
    state: dict[str, Any] = {
        "b_id": row.id, "b_token": attempt.claimed.token, "b_status": DeliveryStatus.pending.value,
        "b_sent_at": None, "b_failed_at": None, "b_last_error": result.error, "b_next_attempt_at": None,
    }  # fmt: skip
    if result.ok:
        state |= {"b_status": DeliveryStatus.sent.value, "b_sent_at": finished_at, "b_last_error": None}
    elif row.attempts >= settings.delivery_max_attempts or result.gone:
        state |= {"b_status": DeliveryStatus.failed.value, "b_failed_at": finished_at}
        # Never the idempotency key or the address: a contact's phone or e-mail is for authorities only
        # (GET /deliveries), and an SMTP refusal quotes the address it refused.
        log.warning(
            "delivery %d (%s to %s via %s) failed after %d attempts: %s",
            row.id,
            row.source_kind,
            row.audience,
            attempt.claimed.channel,
            row.attempts,
            (result.error or "").replace(attempt.claimed.message.address, "<recipient>"),
            extra={"delivery_id": row.id, "incident_id": row.incident_id},
        )
    else:
        state["b_next_attempt_at"] = finished_at + timedelta(seconds=backoff_s(row.attempts, settings))
    return state


def rest_between_rounds(work_s: float, longest_s: float) -> float:
    """How long the worker rests after a round whose database work took ``work_s``: long enough that the
    work is about a ``ROUND_DUTY`` share of the time, never longer than ``longest_s``."""
    return min(longest_s, work_s * (1 / ROUND_DUTY - 1))


class DeliveryWorker:
    """One process's sender: woken at once by in-process commits and by other instances' announced
    deliveries (PostgreSQL), polling for anything else (retries coming due, missed announcements)."""

    def __init__(
        self,
        database: Database,
        settings: Settings,
        busy: Callable[[], bool] = lambda: True,
        announcements: Announcements | None = None,
        writer: Writer | None = None,
    ) -> None:
        self.database = database
        self.writer = writer
        self.announcements = announcements
        self.settings = settings
        self._busy = busy
        self._wake = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        self._limit = asyncio.Semaphore(settings.delivery_concurrency)
        self._round_ended = -float("inf")
        self._round_work_s = 0.0

    def wake(self) -> None:
        """Thread-safe: called from whichever thread committed the enqueuing transaction."""
        self._loop.call_soon_threadsafe(self._wake.set)

    async def run(self) -> None:
        outbox.add_waker(self.wake)
        if self.announcements is not None:  # deliveries another instance committed (PostgreSQL)
            self.announcements.hear("deliveries", self._wake.set)
        try:
            async with httpx.AsyncClient() as client:
                while True:
                    self._wake.clear()
                    await self._pace()
                    self._round_work_s = 0.0
                    claimed = await self._write(functools.partial(claim_in, settings=self.settings))
                    if claimed:
                        await self._send_all(client, claimed)
                    self._round_ended = self._loop.time()
                    if claimed:
                        continue
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(
                            self._wake.wait(), timeout=self.settings.delivery_poll_interval_s
                        )
        finally:
            outbox.remove_waker(self.wake)
            if self.announcements is not None:
                self.announcements.forget("deliveries", self._wake.set)

    async def _pace(self) -> None:
        """While its process is busy (``busy()``: requests are waiting), the worker rests after a round
        up to ``1 / ROUND_DUTY - 1`` times as long as the round's own database work took (never more
        than ``delivery_round_interval_s``): what commits meanwhile gathers into rounds that send many,
        and the worker keeps to about a ``ROUND_DUTY`` share of the process. An idle process's worker
        sends at once."""
        if not self._busy():
            return
        rest = rest_between_rounds(self._round_work_s, self.settings.delivery_round_interval_s)
        wait = self._round_ended + rest - self._loop.time()
        if wait > 0:
            await asyncio.sleep(wait)

    async def _counted(self, work: Awaitable[T]) -> T:
        """``work``'s time counted as the round's database work."""
        began = self._loop.time()
        try:
            return await work
        finally:
            self._round_work_s += self._loop.time() - began

    async def _in_thread(self, work: Callable[..., T], *args: Any) -> T:
        """``work`` in a thread, its time counted as the round's database work."""
        return await self._counted(asyncio.to_thread(work, *args))

    async def _write(self, unit: Callable[[Session], T]) -> T:
        """``unit`` committed with the requests' writes by the process's writer (``core.writer``), or in
        a transaction of its own; its time counted as the round's database work."""
        if self.writer is None:
            return await self._in_thread(alone, self.database, unit)
        return await self._counted(self.writer.run(unit))

    async def _send_all(self, client: httpx.AsyncClient, claimed: list[Claimed]) -> None:
        channels, devices = await self._in_thread(self._channels, [c.message.address for c in claimed])
        attempts = await asyncio.gather(
            *(self._send_one(client, channels, item, devices.get(item.message.address)) for item in claimed)
        )
        try:
            await self._write(
                functools.partial(record_attempts_in, settings=self.settings, attempts=list(attempts))
            )
        except Exception:
            log.exception(
                "could not record %d delivery attempts; their leases will retry them", len(attempts)
            )

    def _channels(self, addresses: list[str]) -> tuple[dict[str, ChannelSpec], dict[str, PushTarget]]:
        """The channels by name, and the subscribed devices behind the round's ``push:`` addresses."""
        with self.database.read_session() as session:
            found = [
                LOG_CHANNEL,
                push.channel(self.settings),
                *outbox.active_channels(session, self.settings),
            ]
            channels = {c.name: c for c in found}
            return channels, push.targets(connection=session.connection(), addresses=addresses)

    async def _send_one(
        self,
        client: httpx.AsyncClient,
        channels: dict[str, ChannelSpec],
        item: Claimed,
        device: PushTarget | None,
    ) -> Attempt:
        async with self._limit:
            started_at, began = clock.now(), time.perf_counter()
            channel = channels.get(item.channel)
            if channel is None:
                result = SendResult(ok=False, error=f"channel {item.channel!r} no longer exists")
            elif not channel.enabled:
                result = SendResult(ok=False, error=f"channel {item.channel!r} is disabled")
            else:
                timeout_s = self.settings.delivery_timeout_s
                result = await send_within(client, channel, item.message, timeout_s, device)
            latency_ms = (time.perf_counter() - began) * 1000
        return Attempt(item, result, started_at, clock.now(), latency_ms)


async def send_within(
    client: httpx.AsyncClient,
    channel: ChannelSpec,
    message: Message,
    timeout_s: float,
    device: PushTarget | None,
) -> SendResult:
    """One send, cut off at ``timeout_s`` in all (httpx's timeout bounds each read, not a receiver that
    trickles its answer): the lease counts on it."""
    try:
        async with asyncio.timeout(timeout_s):
            return await send(client, channel, message, timeout_s, device)
    except TimeoutError:
        return SendResult(ok=False, error=f"no answer within {timeout_s} s")


async def deliver_forever(app: FastAPI) -> None:
    """The server's delivery task (``SAFESPHERE_DELIVERY_WORKER_ENABLED``)."""
    in_flight: InFlight = app.state.device_writes
    worker = DeliveryWorker(
        app.state.db,
        app.state.settings,
        busy=lambda: in_flight.count > 1,
        announcements=app.state.announcements,
        writer=app.state.writer,
    )
    while True:
        try:
            await worker.run()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("delivery worker crashed; restarting")
            await asyncio.sleep(worker.settings.delivery_poll_interval_s)
