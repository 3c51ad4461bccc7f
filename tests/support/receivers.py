"""Real receivers on loopback for delivery tests: an HTTP server (webhooks, SMS gateway) that records
every request and can fail on purpose, and an SMTP server (aiosmtpd) that keeps every message."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from safesphere.notify.senders import webhook_signature
from tests.support.live import free_port


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class HttpReceiver:
    """Answers 200 unless told to fail: ``fail_next(n)`` answers the next n requests with ``status``.
    ``delay_s`` holds every answer that long (a slow dispatch system: sends are in flight for a while)."""

    port: int = 0
    delay_s: float = 0.0
    requests: list[Received] = field(default_factory=list)
    _failures_left: int = 0
    _failure_status: int = 503
    _always_fail: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def fail_next(self, count: int, status: int = 503) -> None:
        with self._lock:
            self._failures_left, self._failure_status = count, status

    def fail_always(self, status: int = 500) -> None:
        with self._lock:
            self._always_fail, self._failure_status = True, status

    def _answer(self, received: Received) -> int:
        with self._lock:
            if self._always_fail:
                return self._failure_status
            if self._failures_left > 0:
                self._failures_left -= 1
                return self._failure_status
            self.requests.append(received)
            return 200

    def start(self) -> HttpReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                if receiver.delay_s:
                    time.sleep(receiver.delay_s)
                status = receiver._answer(
                    Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                )
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def by_webhook_id(self) -> dict[str, list[Received]]:
        grouped: dict[str, list[Received]] = {}
        for request in list(self.requests):
            grouped.setdefault(request.headers.get("webhook-id", ""), []).append(request)
        return grouped


def signature_is_valid(request: Received, secret: str) -> bool:
    """The Standard Webhooks check a receiver does: recompute v1 over id.timestamp.body."""
    expected = webhook_signature(
        secret, request.headers["webhook-id"], int(request.headers["webhook-timestamp"]), request.body
    )
    return expected in request.headers.get("webhook-signature", "").split(" ")


@contextmanager
def http_receiver(port: int = 0, delay_s: float = 0.0) -> Iterator[HttpReceiver]:
    receiver = HttpReceiver(port=port, delay_s=delay_s).start()
    try:
        yield receiver
    finally:
        receiver.stop()


class _Mailbox:
    def __init__(self) -> None:
        self.messages: list[tuple[Envelope, Message]] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.content if isinstance(envelope.content, bytes) else str(envelope.content).encode()
        self.messages.append((envelope, message_from_bytes(content)))
        return "250 Message accepted for delivery"


@dataclass
class SmtpReceiver:
    port: int
    mailbox: _Mailbox

    @property
    def messages(self) -> list[tuple[Envelope, Message]]:
        return list(self.mailbox.messages)


@contextmanager
def smtp_receiver() -> Iterator[SmtpReceiver]:
    mailbox = _Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield SmtpReceiver(port=port, mailbox=mailbox)
    finally:
        controller.stop()


def wait_for(condition: Callable[[], Any], *, timeout_s: float = 15.0, what: str = "the condition") -> Any:
    """Polls until ``condition()`` is truthy and returns it; fails the test naming what never happened."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")
