"""Slow clients are cut off at the server (``safesphere serve``), on real sockets: a body trickled after
its headers gets a 408 and the connection is closed when ``request_body_timeout_s`` ends, and so does a
connection whose request headers never complete (slowloris) when ``request_header_timeout_s`` ends."""

from __future__ import annotations

import socket
import time

from safesphere.core.config import Settings
from tests.factories import Factory
from tests.support.live import LiveServer

TIMEOUT_S = 1.0
SLACK_S = 1.5
"""How much later than its timeout a slow client may be cut off (a loaded CI machine)."""
EARLY_S = 0.01
"""How much earlier than its timeout a connection may be closed: the event loop's timers have millisecond
resolution (libuv under uvloop fires a 1 s timer from its cached loop time, measured 0.9995 s in CI)."""
GIVE_UP_S = 8.0
"""Without the defence the server would wait forever; the test stops waiting here."""


def _trickle_until_closed(port: int, first: bytes, drip: bytes) -> tuple[bytes, float]:
    """Send ``first``, then one byte of ``drip`` every 0.2 s until the server answers or closes; what it
    sent back (until it closed the connection) and how long after ``first`` it closed."""
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.settimeout(0.2)
        started = time.monotonic()
        sock.sendall(first)
        received = b""
        position = 0
        while time.monotonic() - started < GIVE_UP_S:
            try:
                chunk = sock.recv(4096)
            except TimeoutError:
                if position < len(drip):
                    try:
                        sock.sendall(drip[position : position + 1])
                    except OSError:
                        break
                    position += 1
                continue
            except ConnectionResetError:
                break
            if not chunk:
                break  # closed by the server
            received += chunk
        return received, time.monotonic() - started


def test_slow_bodies_and_slow_headers_are_cut_off_at_the_server(settings: Settings, factory: Factory) -> None:
    engine = factory.engine_key()
    timeouts = {"SAFESPHERE_REQUEST_BODY_TIMEOUT_S": "1", "SAFESPHERE_REQUEST_HEADER_TIMEOUT_S": "1"}
    with LiveServer(settings, serve_command=True, extra_env=timeouts) as server:
        # A valid engine announces 500 bytes of report and sends them a byte every 0.2 s.
        head = (
            "POST /threats/report HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"X-API-Key: {engine.key}\r\nContent-Length: 500\r\n\r\n"
        ).encode()
        answer, closed_after = _trickle_until_closed(server.port, head, b"{" + b" " * 499)
        assert answer.startswith(b"HTTP/1.1 408 "), answer
        assert b"connection: close" in answer.lower()
        assert b"not received within 1 s" in answer
        assert TIMEOUT_S - EARLY_S <= closed_after < TIMEOUT_S + SLACK_S

        # Headers a byte at a time never complete.
        answer, closed_after = _trickle_until_closed(
            server.port, b"GET /health HTTP/1.1\r\n", b"Host: 127.0.0.1\r\nX-Slow: " + b"a" * 100
        )
        assert answer.startswith(b"HTTP/1.1 408 "), answer
        assert TIMEOUT_S - EARLY_S <= closed_after < TIMEOUT_S + SLACK_S

        # A connection that sends nothing at all.
        answer, closed_after = _trickle_until_closed(server.port, b"", b"")
        assert closed_after < TIMEOUT_S + SLACK_S

        # The first byte of a request on a kept-alive connection starts the clock again.
        keep_alive = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
        answer, closed_after = _trickle_until_closed(
            server.port, keep_alive + b"GET /he", b"alth HTTP/1.1\r\n" * 5
        )
        assert answer.startswith(b"HTTP/1.1 200 "), answer
        assert answer.count(b"HTTP/1.1 ") == 2 and b"HTTP/1.1 408 " in answer
        assert closed_after < TIMEOUT_S + SLACK_S
