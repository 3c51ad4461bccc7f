"""The HTTP protocol ``safesphere serve`` runs: uvicorn's httptools protocol with a deadline for a
request's headers. Uvicorn has none: a connection that opens and sends half a request line, or headers a
byte at a time, is kept forever, and enough of them exhaust the server's sockets (slowloris). Bodies have
their own deadline in ``core.limits.BodyLimits``."""

from __future__ import annotations

import asyncio
import functools

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from safesphere.core.config import Settings

HEADER_TIMEOUT_ANSWER = (
    b"HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain; charset=utf-8\r\n"
    b"content-length: 30\r\nconnection: close\r\n\r\nRequest headers not received\r\n"
)


@functools.cache
def header_timeout_s() -> float:
    """Read once per process: uvicorn builds the protocol from an import path, so it gets no settings."""
    return Settings().request_header_timeout_s


class TimedHeadersProtocol(HttpToolsProtocol):
    """Closes a connection (408) whose request headers are not complete ``header_timeout_s()`` after it
    opened or after the request's first byte; idle keep-alive connections stay uvicorn's business."""

    _headers_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm()

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        if self._headers_timer is None:
            self._headers_timer = self.loop.call_later(header_timeout_s(), self._headers_late)

    def _disarm(self) -> None:
        if self._headers_timer is not None:
            self._headers_timer.cancel()
            self._headers_timer = None

    def _headers_late(self) -> None:
        self._headers_timer = None
        if not self.transport.is_closing():
            self.transport.write(HEADER_TIMEOUT_ANSWER)
            self.transport.close()
