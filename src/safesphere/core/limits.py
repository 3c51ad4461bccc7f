"""Request limits enforced before the app: a body's size while it streams in (Content-Length may lie) and
the time it may take to arrive, and the fair shares of device writes (in flight and per second) that
``auth.admission`` admits each engine key and tourist to."""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import time
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

RETRY_AFTER_S = 1
CLOSE = (b"connection", b"close")
"""Sent with an answer given before the body was read: the unread rest of it never arrives on a reused
connection, and a slow client's socket is freed at once."""


class BodyLimits:
    """Answers 413 when a body exceeds ``max_bytes`` and 408 when it has not fully arrived ``timeout_s``
    after the request's headers, whatever the app does meanwhile; both close the connection. The timeout
    is a deadline for the whole body, so a client trickling a byte at a time (slowloris) is cut off too."""

    def __init__(self, app: ASGIApp, *, max_bytes: int, timeout_s: float) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.timeout_s = timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit() and int(value) > self.max_bytes:
                await self._too_large(send)
                return
        deadline = asyncio.get_running_loop().time() + self.timeout_s
        received = 0
        complete = False
        refused: _Refused | None = None
        response_started = False

        async def limited_receive() -> Message:
            nonlocal received, complete, refused
            if complete:
                return await receive()
            try:
                async with asyncio.timeout_at(deadline):
                    message = await receive()
            except TimeoutError:
                refused = _TimedOut()
                raise refused from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                complete = not message.get("more_body", False)
                if received > self.max_bytes:
                    refused = _TooLarge()
                    raise refused
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal response_started
            if refused is not None:  # the app's own answer to the aborted read is replaced by ours
                return
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        with contextlib.suppress(_Refused):
            await self.app(scope, limited_receive, guarded_send)
        if refused is None or response_started:
            return
        if isinstance(refused, _TooLarge):
            await self._too_large(send)
        else:
            await answer(send, 408, f"Request body not received within {self.timeout_s:g} s", [CLOSE])

    async def _too_large(self, send: Send) -> None:
        await answer(send, 413, f"Request body larger than {self.max_bytes} bytes", [CLOSE])


DEVICE_WRITES = frozenset({"/threats/report", "/location/update"})
"""Writes that devices repeat by themselves: the engine SDK spools a report answered 408, 429 or 5xx and
retries it (idempotent by ``incident_id``), and a phone's next fix replaces a refused one. SOS, login,
authority actions and everything else are never refused for load."""


class InFlight:
    """How many device writes this process is working on; the delivery worker reads it to tell a busy
    process from an idle one. One event loop per process: no lock."""

    def __init__(self) -> None:
        self.count = 0


@dataclass(frozen=True)
class Refusal:
    status: int
    detail: str
    retry_after_s: int


class FairShares:
    """Device writes in flight, per client and in total. A client (engine key or tourist) may have
    ``per_client`` in flight, and all together ``total``; a client with nothing in flight is admitted up
    to twice ``total``, so however busy others keep the process, a well-behaved device (one write at a
    time) is never refused for their load. ``total`` 0 = no limit (still counted)."""

    def __init__(self, *, per_client: int, total: int, in_flight: InFlight) -> None:
        self.per_client = per_client
        self.total = total
        self.in_flight = in_flight
        self._counts: dict[Hashable, int] = {}

    def admit(self, client: Hashable) -> Refusal | None:
        """Take a slot for ``client`` (give it back with ``release``), or why not."""
        mine = self._counts.get(client, 0)
        total = self.in_flight.count
        if self.per_client and mine >= self.per_client:
            return Refusal(429, f"Too many requests: {mine} of yours in flight", RETRY_AFTER_S)
        if self.total and total >= (2 * self.total if mine == 0 else self.total):
            return Refusal(503, f"Busy: {total} device writes in flight", RETRY_AFTER_S)
        self._counts[client] = mine + 1
        self.in_flight.count += 1
        return None

    def release(self, client: Hashable) -> None:
        mine = self._counts.pop(client) - 1
        if mine:
            self._counts[client] = mine
        self.in_flight.count -= 1


class RateLimits:
    """A token bucket per client: ``rate_per_s`` sustained, ``burst`` at once. Monotonic time, not
    ``core.clock``: a rate is a duration on this host, and a moved wall clock must not refill buckets.
    Full buckets are forgotten once more than ``MAX_CLIENTS`` are kept. ``rate_per_s`` 0 = no limit."""

    MAX_CLIENTS = 10_000

    def __init__(
        self, *, rate_per_s: float, burst: int, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate_per_s = rate_per_s
        self.burst = burst
        self.monotonic = monotonic
        self._buckets: dict[Hashable, tuple[float, float]] = {}

    def take(self, client: Hashable) -> Refusal | None:
        """Spend one token of ``client``'s bucket, or the 429 to answer when it is empty."""
        if self.rate_per_s <= 0:
            return None
        now = self.monotonic()
        tokens, then = self._buckets.get(client, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - then) * self.rate_per_s)
        if tokens < 1:
            self._buckets[client] = (tokens, now)
            wait_s = max(1, math.ceil((1 - tokens) / self.rate_per_s))
            return Refusal(429, f"Too many requests: over {self.rate_per_s:g} per second", wait_s)
        self._buckets[client] = (tokens - 1, now)
        if len(self._buckets) > self.MAX_CLIENTS:
            self._forget_full(now)
        return None

    def _forget_full(self, now: float) -> None:
        refill_s = self.burst / self.rate_per_s
        self._buckets = {c: b for c, b in self._buckets.items() if now - b[1] < refill_s}


async def refuse(send: Send, refusal: Refusal) -> None:
    """Answer ``refusal`` before the body was read (so the connection closes)."""
    retry = (b"retry-after", str(refusal.retry_after_s).encode())
    await answer(send, refusal.status, refusal.detail, [retry, CLOSE])


async def answer(send: Send, status: int, detail: str, headers: Sequence[tuple[bytes, bytes]] = ()) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class _Refused(Exception):
    pass


class _TooLarge(_Refused):
    pass


class _TimedOut(_Refused):
    pass
