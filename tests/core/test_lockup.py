"""Bursts never lock the server up: while hundreds of requests queue for the database, every request's
connection goes back where it was taken, ``/health`` keeps answering within a second, a request that
cannot get a connection in time gets a 503 with Retry-After (never a 500), and SIGTERM still stops it."""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import signal
import time
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from safesphere.core.config import Settings
from safesphere.core.db import Database
from safesphere.incidents.models import Incident
from tests.factories import Factory
from tests.incidents.reports import report_body
from tests.support.live import ONE_CLIENT_UNLIMITED, LiveServer

BURST = 200
HEALTH_LIMIT_S = 1.0
REQUEST_TIMEOUT_S = 30.0


def _watch_health(url: str, stop: Path) -> list[float]:
    """How long each ``/health`` took, polled every 100 ms until the file ``stop`` exists. It runs in a
    process of its own, so the burst's client (hundreds of requests on one GIL) never delays it."""
    durations: list[float] = []
    with httpx.Client(base_url=url, timeout=5) as http:
        while not stop.exists():
            started = time.monotonic()
            with contextlib.suppress(httpx.TimeoutException):
                assert http.get("/health").status_code == 200
            durations.append(time.monotonic() - started)
            time.sleep(0.1)
    return durations


async def _burst(url: str, requests: Sequence[tuple[str, str, dict[str, str], object]]) -> list[int]:
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=None)
    async with httpx.AsyncClient(base_url=url, timeout=REQUEST_TIMEOUT_S, limits=limits) as http:

        async def send(method: str, path: str, headers: dict[str, str], body: object) -> int:
            try:
                response = await http.request(method, path, headers=headers, json=body)
            except httpx.TimeoutException:
                return 0
            return response.status_code

        return list(await asyncio.gather(*(send(*request) for request in requests)))


def measured_burst(
    url: str, requests: Sequence[tuple[str, str, dict[str, str], object]], stop: Path
) -> tuple[list[int], list[float]]:
    """The status of each request sent at once, and how long each ``/health`` took meanwhile."""
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        watcher = pool.submit(_watch_health, url, stop)
        while not watcher.running():
            time.sleep(0.05)
        time.sleep(1.0)  # the watcher's imports are done and it polls
        try:
            codes = asyncio.run(_burst(url, requests))
        finally:
            stop.touch()
        return codes, watcher.result()


@pytest.mark.parametrize("settings_overrides", [ONE_CLIENT_UNLIMITED])
def test_a_burst_of_reads_and_duplicate_reports_never_locks_the_server_up(
    settings: Settings, factory: Factory, db: Database
) -> None:
    authority = factory.authority()
    engine = factory.engine_key()
    first = report_body()
    assert factory.client.post("/threats/report", json=first, headers=engine.headers).status_code == 200
    with db.read_session() as session:
        incident = session.scalar(sa.select(Incident).where(Incident.incident_id == first["incident_id"]))
    assert incident is not None
    duplicate = report_body()
    reads = [("GET", f"/incidents/{incident.incident_id}", authority.headers, None)] * BURST
    reports = [("POST", "/threats/report", engine.headers, duplicate)] * BURST
    mixed = [request for pair in zip(reads, reports, strict=True) for request in pair]

    with LiveServer(settings, serve_command=True) as server:
        codes, health = measured_burst(server.url, mixed, settings.data_dir / "burst-done")
        process = server.process
        assert process is not None
        # After the burst the server still stops within its graceful limit on SIGTERM.
        started = time.monotonic()
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=settings.shutdown_grace_s + 5)
        stopped_in = time.monotonic() - started

    tally = Counter(codes)
    assert set(tally) <= {200, 503}, tally  # no 500, no client timeout (0)
    assert max(health) < HEALTH_LIMIT_S, f"/health took {[round(h, 2) for h in health]} s during the burst"
    assert stopped_in < settings.shutdown_grace_s + 2
    with db.read_session() as session:
        stored = session.scalars(sa.select(Incident.incident_id)).all()
    assert sorted(stored) == sorted([first["incident_id"], duplicate["incident_id"]])  # nothing lost


def test_the_pool_is_sized_from_the_route_threads(db: Database, settings: Settings) -> None:
    """Every thread that can hold connections has them: 2 per route thread plus the background tasks'."""
    assert db.read_engine.pool.size() == 2 * settings.route_threads + 4  # type: ignore[attr-defined]


def test_a_request_that_gets_no_connection_in_time_is_a_503_with_retry_after(
    factory: Factory, db: Database
) -> None:
    authority = factory.authority()
    held = [db.read_engine.connect() for _ in range(db.read_engine.pool.size())]  # type: ignore[attr-defined]
    try:
        started = time.monotonic()
        response = factory.client.get("/incidents", headers=authority.headers)
        waited = time.monotonic() - started
    finally:
        for connection in held:
            connection.close()
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"] == "1"
    assert "no database connection free" in response.json()["detail"]
    assert waited < db.settings.db_pool_timeout_s + 2
    assert factory.client.get("/incidents", headers=authority.headers).status_code == 200
