"""Concurrent writers never see "database is locked": requests queue for the lock instead of failing."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
import sqlalchemy as sa

from safesphere.auth.models import User
from safesphere.core.config import Settings
from safesphere.core.db import Database
from tests.support.live import LiveServer

WRITERS = 8
WRITES_EACH = 4


def test_concurrent_registrations_over_real_http_all_succeed(live_server: LiveServer, db: Database) -> None:
    def register(n: int) -> list[int]:
        with httpx.Client(base_url=live_server.url, timeout=30) as http:
            return [
                http.post(
                    "/auth/register", json={"email": f"u{n}-{i}@example.com", "password": "longenough"}
                ).status_code
                for i in range(WRITES_EACH)
            ]

    with ThreadPoolExecutor(max_workers=WRITERS) as pool:
        codes = [code for batch in pool.map(register, range(WRITERS)) for code in batch]

    assert codes == [201] * (WRITERS * WRITES_EACH)
    with db.read_session() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(User)) == WRITERS * WRITES_EACH


def test_two_worker_processes_share_one_database(settings: Settings, db: Database) -> None:
    server = LiveServer(settings, workers=2)
    server.start()
    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            codes = list(
                pool.map(
                    lambda n: (
                        httpx.post(
                            f"{server.url}/auth/register",
                            json={"email": f"w{n}@example.com", "password": "longenough"},
                            timeout=30,
                        ).status_code
                    ),
                    range(32),
                )
            )
    finally:
        server.stop()
    assert codes == [201] * 32
