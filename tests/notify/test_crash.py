"""Pending deliveries survive ``kill -9`` of the server: the next start sends them, once."""

from __future__ import annotations

import json
import time

import httpx
import pytest
import sqlalchemy as sa

from safesphere.core.config import Settings
from safesphere.core.db import Database
from safesphere.notify.models import Delivery
from tests.factories import Factory
from tests.incidents.reports import report_body
from tests.notify.conftest import POLICE_SECRET
from tests.support.live import LiveServer, free_port
from tests.support.receivers import http_receiver, signature_is_valid, wait_for


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    """Only the live server sends here: the test's own in-process app keeps its worker off."""
    return {"delivery_worker_enabled": False}


def _delivery_states(db: Database) -> list[tuple[str, int]]:
    with db.read_session() as session:
        query = sa.select(Delivery.status, Delivery.attempts).where(Delivery.audience == "police")
        return [(status, attempts) for status, attempts in session.execute(query)]


def test_deliveries_pending_when_the_server_is_killed_arrive_after_restart(
    settings: Settings, db: Database, factory: Factory
) -> None:
    receiver_port = free_port()  # nothing listens yet: the police system is down
    env = {
        "SAFESPHERE_DELIVERY_WORKER_ENABLED": "true",
        "SAFESPHERE_POLICE_WEBHOOK_URL": f"http://127.0.0.1:{receiver_port}/dispatch",
        "SAFESPHERE_POLICE_WEBHOOK_SECRET": POLICE_SECRET,
        "SAFESPHERE_DELIVERY_BACKOFF_BASE_S": "0.2",
        "SAFESPHERE_DELIVERY_BACKOFF_MAX_S": "0.5",
        "SAFESPHERE_DELIVERY_MAX_ATTEMPTS": "1000",
        "SAFESPHERE_DELIVERY_POLL_INTERVAL_S": "0.1",
        "SAFESPHERE_DELIVERY_TIMEOUT_S": "0.5",
        "SAFESPHERE_DELIVERY_LEASE_S": "1",
    }
    server = LiveServer(settings, extra_env=env)
    server.start()
    try:
        engine = factory.engine_key()
        body = report_body(weapon_detected=False, weapon_types=[])
        response = httpx.post(f"{server.url}/threats/report", json=body, headers=engine.headers, timeout=10)
        assert response.status_code == 200, response.text
        wait_for(lambda: any(attempts >= 2 for _, attempts in _delivery_states(db)), what="failed tries")
        server.kill()
        time.sleep(0.3)
        assert [status for status, _ in _delivery_states(db)] in (["pending"], ["sending"])

        with http_receiver(receiver_port) as police:
            server.start()
            wait_for(lambda: [s for s, _ in _delivery_states(db)] == ["sent"], timeout_s=30, what="delivery")
            assert len(police.requests) == 1
            assert signature_is_valid(police.requests[0], POLICE_SECRET)
            assert json.loads(police.requests[0].body)["incident_id"] == body["incident_id"]
    finally:
        server.stop()
