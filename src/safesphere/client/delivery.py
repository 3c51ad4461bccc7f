"""One delivery attempt and what its answer means: stored, try again later, or refused for good."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import httpx

REPORT_PATH = "/threats/report"
SCREENSHOT_PATH = "/upload/screenshot"
JSON_HEADERS = {"Content-Type": "application/json"}

RETRYABLE_CLIENT_STATUSES = frozenset({408, 425, 429})
"""4xx answers meaning "not now" (timeout, too early, rate limited), not "never": retried like a 5xx."""

MAX_DETAIL_CHARS = 500
"""Enough of a non-JSON error page to say what went wrong, not the whole page."""


class Verdict(StrEnum):
    delivered = "delivered"
    retry = "retry"
    rejected = "rejected"


@dataclass(frozen=True)
class Attempt:
    verdict: Verdict
    status_code: int | None
    response: dict[str, Any] | None = None
    detail: Any = None

    @property
    def error(self) -> str:
        """A one-line description of a failed attempt, for the spool and the logs."""
        if self.status_code is None:
            return str(self.detail)
        return f"HTTP {self.status_code}: {self.detail}"


def verdict_for(status_code: int) -> Verdict:
    if 200 <= status_code < 300:
        return Verdict.delivered
    if status_code >= 500 or status_code in RETRYABLE_CLIENT_STATUSES:
        return Verdict.retry
    return Verdict.rejected


def json_or_none(response: httpx.Response) -> dict[str, Any] | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def error_detail(response: httpx.Response) -> Any:
    """The server's ``detail`` (a message, or FastAPI's list of field errors), else the start of the body."""
    body = json_or_none(response)
    if body is not None and "detail" in body:
        return body["detail"]
    return response.text[:MAX_DETAIL_CHARS]


def attempt_from(response: httpx.Response) -> Attempt:
    verdict = verdict_for(response.status_code)
    if verdict is Verdict.delivered:
        return Attempt(verdict, response.status_code, response=json_or_none(response))
    return Attempt(verdict, response.status_code, detail=error_detail(response))


def transport_failure(exc: httpx.RequestError) -> Attempt:
    """No usable answer. The server may still have stored the request, which is why retries are idempotent."""
    return Attempt(Verdict.retry, None, detail=f"{type(exc).__name__}: {exc}")


def post_incident(http: httpx.Client, body: bytes) -> Attempt:
    try:
        response = http.post(REPORT_PATH, content=body, headers=JSON_HEADERS)
    except httpx.RequestError as exc:
        return transport_failure(exc)
    return attempt_from(response)


def post_screenshot(http: httpx.Client, incident_id: str, content: bytes, filename: str) -> Attempt:
    try:
        response = http.post(
            SCREENSHOT_PATH,
            data={"incident_id": incident_id},
            files={"file": (filename, content, "application/octet-stream")},
        )
    except httpx.RequestError as exc:
        return transport_failure(exc)
    return attempt_from(response)


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with jitter: attempt n waits between half and all of ``base * 2**(n-1)``."""

    base_s: float = 1.0
    max_s: float = 60.0

    def delay(self, attempts: int) -> float:
        ceiling = min(self.max_s, self.base_s * 2.0 ** max(attempts - 1, 0))
        return ceiling / 2 + secrets.SystemRandom().uniform(0, ceiling / 2)
