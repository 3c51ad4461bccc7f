"""The delivery worker: claims due deliveries, sends them, records every attempt, retries with backoff.

It runs as an asyncio task in each server process. Claims are atomic (a conditional UPDATE stamped
with a fresh claim token), so any number of processes can share one database; a claim expires after a
lease, so rows held by a process that died (``kill -9``) are sent by the next worker that looks.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
import sqlalchemy as sa
from fastapi import FastAPI

from safesphere.core import clock
from safesphere.core.config import Settings
from safesphere.core.db import Database
from safesphere.notify import outbox, sources
from safesphere.notify.models import Delivery, DeliveryAttempt, DeliveryStatus
from safesphere.notify.routing import LOG_CHANNEL, ChannelSpec
from safesphere.notify.senders import Message, SendResult, send

log = logging.getLogger(__name__)

CLAIM_BATCH = 64
"""Deliveries claimed per round; more wait for the next round a few milliseconds later."""


@dataclass(frozen=True)
class Claimed:
    id: int
    token: str
    channel: str
    attempt: int
    message: Message


def backoff_s(attempt: int, settings: Settings, rng: random.Random | None = None) -> float:
    """Full jitter: uniform in [0, min(max, base x 2^(attempt-1))] ("exponential backoff and jitter")."""
    ceiling = min(settings.delivery_backoff_max_s, settings.delivery_backoff_base_s * 2 ** (attempt - 1))
    return (rng or random).uniform(0, ceiling)


def _due(now: datetime) -> sa.ColumnElement[bool]:
    return sa.or_(
        sa.and_(Delivery.status == DeliveryStatus.pending.value, Delivery.next_attempt_at <= now),
        sa.and_(Delivery.status == DeliveryStatus.sending.value, Delivery.lease_expires_at < now),
    )


def claim_due(database: Database, settings: Settings, limit: int = CLAIM_BATCH) -> list[Claimed]:
    """Atomically take up to ``limit`` due deliveries (pending and due, or leased by a dead process)."""
    now = clock.now()
    token = secrets.token_hex(16)
    with database.session() as session:
        ids = list(
            session.scalars(
                sa.select(Delivery.id).where(_due(now)).order_by(Delivery.next_attempt_at).limit(limit)
            )
        )
        if not ids:
            return []
        session.execute(
            sa.update(Delivery)
            .where(Delivery.id.in_(ids), _due(now))
            .values(
                status=DeliveryStatus.sending.value,
                claim_token=token,
                lease_expires_at=now + timedelta(seconds=settings.delivery_lease_s),
                attempts=Delivery.attempts + 1,
            )
            .execution_options(synchronize_session=False)
        )
        rows = list(
            session.scalars(sa.select(Delivery).where(Delivery.id.in_(ids), Delivery.claim_token == token))
        )
        claimed = [
            Claimed(
                id=row.id,
                token=token,
                channel=row.channel,
                attempt=row.attempts,
                message=Message(row.idempotency_key, row.recipient, row.subject, dict(row.payload)),
            )
            for row in rows
        ]
        session.commit()
    return claimed


@dataclass(frozen=True)
class Attempt:
    """One finished try at sending a claimed delivery."""

    claimed: Claimed
    result: SendResult
    started_at: datetime
    finished_at: datetime
    latency_ms: float


def record_attempts(database: Database, settings: Settings, attempts: list[Attempt]) -> None:
    """A round's attempts in one transaction: their rows, each delivery's next state (sent / retry later /
    failed) and what that changes at their sources. A delivery reclaimed after our lease ran out keeps
    its new owner's state; the attempt is history all the same."""
    if not attempts:
        return
    with database.session() as session:
        session.execute(sa.insert(DeliveryAttempt), [_attempt_row(a) for a in attempts])
        ids = [a.claimed.id for a in attempts]
        deliveries = {d.id: d for d in session.scalars(sa.select(Delivery).where(Delivery.id.in_(ids)))}
        finished: list[tuple[Delivery, datetime]] = []
        for attempt in attempts:
            delivery = deliveries.get(attempt.claimed.id)
            if delivery is None or delivery.claim_token != attempt.claimed.token:
                continue
            _next_state(delivery, attempt, settings)
            finished.append((delivery, attempt.finished_at))
        sources.after_attempts(session=session, finished=finished)
        session.commit()


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


def _next_state(delivery: Delivery, attempt: Attempt, settings: Settings) -> None:
    result, finished_at = attempt.result, attempt.finished_at
    delivery.claim_token, delivery.lease_expires_at = None, None
    if result.ok:
        delivery.status, delivery.sent_at, delivery.last_error = DeliveryStatus.sent.value, finished_at, None
    elif delivery.attempts >= settings.delivery_max_attempts:
        delivery.status, delivery.failed_at = DeliveryStatus.failed.value, finished_at
        delivery.last_error = result.error
        log.warning(
            "delivery %s failed after %d attempts: %s",
            delivery.idempotency_key,
            delivery.attempts,
            result.error,
            extra={"delivery_id": delivery.id, "incident_id": delivery.incident_id},
        )
    else:
        delivery.status, delivery.last_error = DeliveryStatus.pending.value, result.error
        delivery.next_attempt_at = finished_at + timedelta(seconds=backoff_s(delivery.attempts, settings))


class DeliveryWorker:
    """One process's sender: woken at once by in-process commits, polling for everyone else's."""

    def __init__(self, database: Database, settings: Settings) -> None:
        self.database = database
        self.settings = settings
        self._wake = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        self._limit = asyncio.Semaphore(settings.delivery_concurrency)

    def wake(self) -> None:
        """Thread-safe: called from whichever thread committed the enqueuing transaction."""
        self._loop.call_soon_threadsafe(self._wake.set)

    async def run(self) -> None:
        outbox.add_waker(self.wake)
        try:
            async with httpx.AsyncClient() as client:
                while True:
                    self._wake.clear()
                    claimed = await asyncio.to_thread(claim_due, self.database, self.settings)
                    if claimed:
                        await self._send_all(client, claimed)
                        continue
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(
                            self._wake.wait(), timeout=self.settings.delivery_poll_interval_s
                        )
        finally:
            outbox.remove_waker(self.wake)

    async def _send_all(self, client: httpx.AsyncClient, claimed: list[Claimed]) -> None:
        channels = await asyncio.to_thread(self._channels)
        attempts = await asyncio.gather(*(self._send_one(client, channels, item) for item in claimed))
        try:
            await asyncio.to_thread(record_attempts, self.database, self.settings, list(attempts))
        except Exception:
            log.exception(
                "could not record %d delivery attempts; their leases will retry them", len(attempts)
            )

    def _channels(self) -> dict[str, ChannelSpec]:
        with self.database.read_session() as session:
            return {c.name: c for c in [LOG_CHANNEL, *outbox.active_channels(session, self.settings)]}

    async def _send_one(
        self, client: httpx.AsyncClient, channels: dict[str, ChannelSpec], item: Claimed
    ) -> Attempt:
        async with self._limit:
            started_at, began = clock.now(), time.perf_counter()
            channel = channels.get(item.channel)
            if channel is None:
                result = SendResult(ok=False, error=f"channel {item.channel!r} no longer exists")
            elif not channel.enabled:
                result = SendResult(ok=False, error=f"channel {item.channel!r} is disabled")
            else:
                result = await send(client, channel, item.message, self.settings.delivery_timeout_s)
            latency_ms = (time.perf_counter() - began) * 1000
        return Attempt(item, result, started_at, clock.now(), latency_ms)


async def deliver_forever(app: FastAPI) -> None:
    """The server's delivery task (``SAFESPHERE_DELIVERY_WORKER_ENABLED``)."""
    worker = DeliveryWorker(app.state.db, app.state.settings)
    while True:
        try:
            await worker.run()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("delivery worker crashed; restarting")
            await asyncio.sleep(worker.settings.delivery_poll_interval_s)
