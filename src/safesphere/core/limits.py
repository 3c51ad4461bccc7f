"""Request limits enforced before the app: body size while the body streams in (Content-Length may lie),
and how many device writes may be in flight at once."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Sequence

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodySizeLimit:
    """Rejects a request whose body exceeds ``max_bytes`` with 413 before the app reads it all."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit() and int(value) > self.max_bytes:
                await self._reject(send)
                return
        received = 0
        rejected = False
        response_started = False

        async def limited_receive() -> Message:
            nonlocal received, rejected
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    rejected = True
                    raise _TooLarge
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal response_started
            if rejected:  # the app's own answer to the aborted read is replaced by our 413
                return
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        with contextlib.suppress(_TooLarge):
            await self.app(scope, limited_receive, guarded_send)
        if rejected and not response_started:
            await self._reject(send)

    async def _reject(self, send: Send) -> None:
        await _answer(send, 413, f"Request body larger than {self.max_bytes} bytes")


DEVICE_WRITES = frozenset({"/threats/report", "/location/update"})
"""Writes that devices repeat by themselves: the engine SDK spools a report answered 5xx and retries it
(idempotent by ``incident_id``), and a phone's next fix replaces a refused one. SOS, authority actions
and everything else are never refused for load."""
RETRY_AFTER_S = 1


class InFlight:
    """How many device writes this process is working on, counted by ``InFlightLimit``; the delivery
    worker reads it to tell a busy process from an idle one. One event loop per process: no lock."""

    def __init__(self) -> None:
        self.count = 0


class InFlightLimit:
    """Answers a device write 503 with ``Retry-After`` at once when ``limit`` of them are already in
    flight in this process, instead of queueing it behind seconds of work: under a flood the writes it
    accepts stay fast, and the rest of the service (SOS, the control room) keeps answering. 0 = no limit
    (the writes are still counted in ``in_flight``).
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        limit: int,
        in_flight: InFlight | None = None,
        paths: frozenset[str] = DEVICE_WRITES,
    ) -> None:
        self.app = app
        self.limit = limit
        self.paths = paths
        self.in_flight = in_flight or InFlight()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] not in self.paths:
            await self.app(scope, receive, send)
            return
        in_flight = self.in_flight
        if 0 < self.limit <= in_flight.count:
            detail = f"Busy: {in_flight.count} device writes in flight; retry in {RETRY_AFTER_S} s"
            await _answer(send, 503, detail, [(b"retry-after", str(RETRY_AFTER_S).encode())])
            return
        in_flight.count += 1  # no await between the check and the count
        try:
            await self.app(scope, receive, send)
        finally:
            in_flight.count -= 1


async def _answer(send: Send, status: int, detail: str, headers: Sequence[tuple[bytes, bytes]] = ()) -> None:
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


class _TooLarge(Exception):
    pass
