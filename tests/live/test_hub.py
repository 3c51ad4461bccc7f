"""One live feed per process: however many dashboards are open, the process looks for changes once per
interval, and each look's changes reach every stream."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from safesphere.app import create_app
from safesphere.core.config import Settings
from safesphere.core.db import Database
from tests.factories import Factory
from tests.incidents.reports import report_body
from tests.live.test_live_feed import live_stream
from tests.support.live import free_port
from tests.support.statements import counting

STREAMS = 12
POLL_INTERVAL_S = 0.2
WINDOW_S = 1.0


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    # The polling path (SQLite's, and PostgreSQL's while its listener is down), at a quick pace.
    return {"live_poll_interval_s": POLL_INTERVAL_S, "announcements_listen": False}


@contextmanager
def served(app: FastAPI) -> Iterator[str]:
    """``app`` served by uvicorn on loopback in a thread of this process, so its database is countable."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def _feed_reads(statements: list[str]) -> int:
    return sum("ORDER BY incidents.updated_at" in s or "ORDER BY alerts.updated_at" in s for s in statements)


def test_many_open_streams_cost_one_look_per_interval_and_all_get_each_change(
    settings: Settings, factory: Factory
) -> None:
    app = create_app(settings)
    authority, engine = factory.authority(), factory.engine_key(name="cam-hub")
    with served(app) as url, ExitStack() as streams:
        opened = [streams.enter_context(live_stream(url, authority.headers)) for _ in range(STREAMS)]
        database: Database = app.state.db
        with counting(database) as statements:
            time.sleep(WINDOW_S)
        looks = _feed_reads(statements) / 2  # a look reads incidents, then alerts
        # One poller: about WINDOW_S / POLL_INTERVAL_S looks (a poller per stream made STREAMS times more).
        assert 1 <= looks <= WINDOW_S / POLL_INTERVAL_S + 2, f"{looks} looks with {STREAMS} streams open"

        body = report_body(latitude=48.8566, longitude=2.3522)
        answer = httpx.post(f"{url}/threats/report", json=body, headers=engine.headers, timeout=10)
        assert answer.status_code == 200, answer.text
        for stream in opened:
            stream.wait_for("incident", incident_id=body["incident_id"])
