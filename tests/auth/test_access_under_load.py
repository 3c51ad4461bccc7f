"""Authentication must not hold a pooled connection while its request waits for a worker thread.

With more concurrent requests than pooled connections, requests parked between their auth dependency
and their route used to keep the pool empty while new arrivals took every worker thread to wait for
it: the server stalled until the pool timeout and answered 500. The benchmark found it.
"""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import httpx

from safesphere.core.config import Settings
from safesphere.simulate.telemetry import threat_cv_incident
from tests.factories import Factory
from tests.support.live import LiveServer

CONCURRENT_REPORTS = 120
TINY_POOL = {"SAFESPHERE_DB_POOL_SIZE": "1"}
"""One pooled connection plus two overflow per engine: far fewer than uvicorn's 40 worker threads."""
ONE_KEY_UNLIMITED = {
    "SAFESPHERE_DEVICE_WRITES_IN_FLIGHT_PER_CLIENT": "0",
    "SAFESPHERE_DEVICE_WRITES_PER_S": "0",
}
"""The 120 reports share one key; its own share (tests/core/test_admission.py) is lifted here."""


def _report_all_at_once(settings: Settings, factory: Factory, **env: str) -> list[httpx.Response]:
    key = factory.engine_key().key
    server = LiveServer(settings, extra_env={**TINY_POOL, **ONE_KEY_UNLIMITED, **env})
    server.start()
    try:
        rng = random.Random(1)
        reports = [
            threat_cv_incident(rng, level="HIGH", at=datetime.now(UTC), frame_id=n)
            for n in range(CONCURRENT_REPORTS)
        ]

        # Each report from its own device, on its own connection: one client shared by 120 threads can
        # trip over its own pool (a connection closed by one thread while another reads it: EBADF).
        def send(report: dict[str, object]) -> httpx.Response:
            return httpx.post(
                f"{server.url}/threats/report", json=report, headers={"X-API-Key": key}, timeout=120
            )

        with ThreadPoolExecutor(max_workers=CONCURRENT_REPORTS) as pool:
            return list(pool.map(send, reports))
    finally:
        server.stop()


def test_more_concurrent_reports_than_pooled_connections_all_succeed(
    settings: Settings, factory: Factory
) -> None:
    """(With no in-flight limit, so every report reaches the pool.)"""
    answers = _report_all_at_once(settings, factory, SAFESPHERE_MAX_IN_FLIGHT_DEVICE_WRITES="0")
    assert [a.status_code for a in answers] == [200] * CONCURRENT_REPORTS


def test_reports_past_the_in_flight_limit_are_told_to_retry_never_failed(
    settings: Settings, factory: Factory
) -> None:
    """With the default limit (64 in flight) some of 120 simultaneous reports may be refused, each with a
    503 and Retry-After that the SDK spools and retries; none fails or stalls."""
    answers = _report_all_at_once(settings, factory)
    refused = [a for a in answers if a.status_code == 503]
    assert {a.status_code for a in answers} <= {200, 503}
    assert len(answers) - len(refused) >= 64
    assert all(a.headers["retry-after"] == "1" for a in refused)
