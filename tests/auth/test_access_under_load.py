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


def test_more_concurrent_reports_than_pooled_connections_all_succeed(
    settings: Settings, factory: Factory
) -> None:
    key = factory.engine_key().key
    server = LiveServer(settings, extra_env=TINY_POOL)
    server.start()
    try:
        rng = random.Random(1)
        reports = [
            threat_cv_incident(rng, level="HIGH", at=datetime.now(UTC), frame_id=n)
            for n in range(CONCURRENT_REPORTS)
        ]
        with (
            httpx.Client(base_url=server.url, headers={"X-API-Key": key}, timeout=120) as http,
            ThreadPoolExecutor(max_workers=CONCURRENT_REPORTS) as pool,
        ):
            statuses = list(
                pool.map(lambda report: http.post("/threats/report", json=report).status_code, reports)
            )
    finally:
        server.stop()

    assert statuses == [200] * CONCURRENT_REPORTS
