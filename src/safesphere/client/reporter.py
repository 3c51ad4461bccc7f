"""``ThreatReporter``: what a detection engine calls instead of ``requests.post(.../threats/report)``.

Every incident reaches the server exactly once or is reported as refused: a network failure or a 5xx
puts it in a durable local spool that a background thread retries with backoff, and the
``incident_id`` (generated before the first attempt when the engine left it out) makes every retry
the same request, which the server stores once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from safesphere.client.delivery import (
    Attempt,
    Backoff,
    Verdict,
    json_or_none,
    post_incident,
    post_screenshot,
)
from safesphere.client.endpoint import parse_base_url
from safesphere.client.flusher import Flusher
from safesphere.client.payload import prepare_incident
from safesphere.client.results import Health, Outcome, Rejection, Result
from safesphere.client.spool import INCIDENT, Spool, SpooledRequest

logger = logging.getLogger(__name__)

DEFAULT_SPOOL_PATH = Path("safesphere-spool.db")
DEFAULT_TIMEOUT_S = 5.0
"""The engine's own ``requests.post(..., timeout=5)``: a camera loop must not hang on a slow server."""

CONNECTION_POOL_SIZE = 20
"""Keep-alive connections shared by the engine's threads and the flusher."""

DEFAULT_SCREENSHOT_NAME = "screenshot.jpg"


class ThreatReporter:
    """Thread-safe client for ``POST /threats/report`` and ``POST /upload/screenshot`` with an offline spool.

    ``base_url`` may carry the engine key as its password (``http://cam-01:<key>@host:8000``).
    Use as a context manager, or call ``close()``; spooled requests left at close are sent by the next
    reporter opened on the same ``spool_path``.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        *,
        spool_path: Path | str = DEFAULT_SPOOL_PATH,
        timeout: float = DEFAULT_TIMEOUT_S,
        backoff_base_s: float = 1.0,
        backoff_max_s: float = 60.0,
    ) -> None:
        endpoint = parse_base_url(base_url, api_key)
        if endpoint.api_key is None:
            raise ValueError("an engine key is needed: pass api_key or put it in base_url as the password")
        self.base_url = endpoint.base_url
        self._http = httpx.Client(
            base_url=endpoint.base_url,
            headers={"X-API-Key": endpoint.api_key},
            timeout=timeout,
            limits=httpx.Limits(
                max_connections=CONNECTION_POOL_SIZE, max_keepalive_connections=CONNECTION_POOL_SIZE
            ),
        )
        self._spool = Spool(spool_path)
        self._flusher = Flusher(
            spool=self._spool, send=self._send_spooled, backoff=Backoff(backoff_base_s, backoff_max_s)
        )
        self._closed = False
        self._flusher.start()

    def __enter__(self) -> ThreatReporter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def report(self, incident: Mapping[str, Any]) -> Result:
        """Send one incident (the dict the engine builds); on failure keep it for the background retry."""
        incident_id, body = prepare_incident(incident)
        attempt = post_incident(self._http, body)
        if attempt.verdict is Verdict.retry:
            return self._spool_incident(incident_id, body, attempt)
        return self._settled(incident_id, attempt)

    def upload_screenshot(
        self, incident_id: str, screenshot: Path | str | bytes, *, filename: str | None = None
    ) -> Result:
        """Attach an image to an incident; waits in the spool behind its incident when that is spooled."""
        content, name = _screenshot_content(screenshot, filename)
        if self._spool.has_incident(incident_id):
            return self._spool_screenshot(
                incident_id, content, name, "waiting for its incident to be delivered"
            )
        attempt = post_screenshot(self._http, incident_id, content, name)
        if attempt.verdict is Verdict.retry:
            return self._spool_screenshot(incident_id, content, name, attempt.error)
        return self._settled(incident_id, attempt)

    def health(self) -> Health:
        """``GET /health``: whether the server and its database answer (never raises)."""
        try:
            response = self._http.get("/health")
        except httpx.RequestError as exc:
            return Health(healthy=False, status_code=None, detail=f"{type(exc).__name__}: {exc}")
        body = json_or_none(response)
        healthy = response.status_code == 200 and body is not None and body.get("status") == "healthy"
        return Health(healthy=healthy, status_code=response.status_code, response=body)

    def flush(self) -> int:
        """Try every spooled request now, ignoring backoff; returns how many are still waiting."""
        self._flusher.drain(force=True)
        return self._spool.pending()

    def pending(self) -> int:
        """Requests in the spool, not yet delivered."""
        return self._spool.pending()

    def rejections(self) -> list[Rejection]:
        """Spooled requests the server later refused (4xx), oldest first."""
        return self._spool.rejections()

    def close(self, *, flush: bool = True) -> None:
        """Stop the flusher after a last try (``flush``); anything left stays spooled for next time."""
        if self._closed:
            return
        self._closed = True
        self._flusher.stop()
        if flush:
            self._flusher.drain(force=True)
        self._http.close()
        self._spool.close()

    def _settled(self, incident_id: str, attempt: Attempt) -> Result:
        if attempt.verdict is Verdict.delivered:
            if self._flusher.backlog:
                self._flusher.server_is_back()
            return Result(Outcome.delivered, incident_id, attempt.status_code, response=attempt.response)
        logger.warning("request rejected: %s", attempt.error, extra={"incident_id": incident_id})
        return Result(Outcome.rejected, incident_id, attempt.status_code, detail=attempt.detail)

    def _spool_incident(self, incident_id: str, body: bytes, attempt: Attempt) -> Result:
        self._spool.add_incident(incident_id, body, due_at=time.time(), error=attempt.error)
        logger.warning("incident spooled: %s", attempt.error, extra={"incident_id": incident_id})
        self._flusher.wake()
        return Result(Outcome.spooled, incident_id, attempt.status_code, detail=attempt.detail)

    def _spool_screenshot(self, incident_id: str, content: bytes, name: str, error: str) -> Result:
        self._spool.add_screenshot(incident_id, content, name, due_at=time.time(), error=error)
        logger.info("screenshot spooled: %s", error, extra={"incident_id": incident_id})
        self._flusher.wake()
        return Result(Outcome.spooled, incident_id, detail=error)

    def _send_spooled(self, request: SpooledRequest) -> Attempt:
        if request.kind == INCIDENT:
            return post_incident(self._http, request.body)
        return post_screenshot(
            self._http, request.incident_id, request.body, request.filename or DEFAULT_SCREENSHOT_NAME
        )


def _screenshot_content(screenshot: Path | str | bytes, filename: str | None) -> tuple[bytes, str]:
    if isinstance(screenshot, bytes | bytearray | memoryview):
        return bytes(screenshot), filename or DEFAULT_SCREENSHOT_NAME
    path = Path(screenshot)
    return path.read_bytes(), filename or path.name
