"""Fixtures for the SDK tests: engine credentials, reporters with a fast backoff, and server-side checks."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from safesphere.client import ThreatReporter
from safesphere.simulate.telemetry import threat_cv_incident
from tests.factories import Account, EngineCredentials, Factory
from tests.support.live import LiveServer

FAST_BACKOFF = {"backoff_base_s": 0.05, "backoff_max_s": 0.3}
"""Retry quickly once the server is back, so the tests wait for delivery, not for the backoff."""

EVENTUALLY_TIMEOUT_S = 60.0


def eventually(predicate: Callable[[], bool], *, timeout: float = EVENTUALLY_TIMEOUT_S) -> None:
    """Wait until ``predicate()`` holds (an event the test expects, not a speed requirement)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not reached within {timeout}s")
        time.sleep(0.05)


def engine_incident(seed: int = 1, *, level: str = "CRITICAL", **fields: Any) -> dict[str, Any]:
    """A report exactly as threat_cv builds it (full telemetry included)."""
    incident = threat_cv_incident(random.Random(seed), level=level, at=datetime.now(UTC), frame_id=seed)
    incident.update(fields)
    return incident


@pytest.fixture
def engine(factory: Factory) -> EngineCredentials:
    return factory.engine_key(name="cam-01")


@pytest.fixture
def authority(factory: Factory) -> Account:
    return factory.authority()


@pytest.fixture
def make_reporter(
    live_server: LiveServer, engine: EngineCredentials, tmp_path: Path
) -> Iterator[Callable[..., ThreatReporter]]:
    """``make_reporter(**kwargs)``: a reporter on the live server with the engine's key and a fast backoff."""
    opened: list[ThreatReporter] = []

    def make(**kwargs: Any) -> ThreatReporter:
        options: dict[str, Any] = {"spool_path": tmp_path / "spool.db", **FAST_BACKOFF}
        options.update(kwargs)
        reporter = ThreatReporter(
            options.pop("base_url", live_server.url), options.pop("api_key", engine.key), **options
        )
        opened.append(reporter)
        return reporter

    yield make
    for reporter in opened:
        reporter.close()


class ServerView:
    """What the server stored, read through its public API with an authority token."""

    def __init__(self, live_server: LiveServer, authority: Account) -> None:
        self._server = live_server
        self._headers = authority.headers

    def incident(self, incident_id: str) -> dict[str, Any] | None:
        response = httpx.get(f"{self._server.url}/incidents/{incident_id}", headers=self._headers, timeout=10)
        if response.status_code == 404:
            return None
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return body

    def total_incidents(self) -> int:
        response = httpx.get(f"{self._server.url}/statistics", headers=self._headers, timeout=10)
        response.raise_for_status()
        return int(response.json()["statistics"]["total_incidents"])

    def evidence(self, incident_id: str) -> list[dict[str, Any]]:
        response = httpx.get(
            f"{self._server.url}/incidents/{incident_id}/evidence", headers=self._headers, timeout=10
        )
        response.raise_for_status()
        body = response.json()
        return list(body["evidence"] if isinstance(body, dict) else body)


@pytest.fixture
def server_view(live_server: LiveServer, authority: Account) -> ServerView:
    return ServerView(live_server, authority)
