"""Engines retry: the same report returns the original result and stores nothing new; a clash is a 409."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import httpx
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from safesphere.core import clock
from safesphere.core.db import Database
from safesphere.incidents.models import Incident
from tests.factories import Factory
from tests.incidents.reports import report_body, stored_counts
from tests.support.live import ONE_CLIENT_UNLIMITED, LiveServer

CONCURRENT_RETRIES = 8


def _snapshot(db: Database, incident_id: str) -> tuple[datetime, int | None]:
    with db.read_session() as session:
        incident = session.scalar(sa.select(Incident).where(Incident.incident_id == incident_id))
    assert incident is not None
    return incident.updated_at, incident.response_time_ms


def test_a_retry_returns_the_original_result_and_stores_nothing_new(
    client: TestClient, factory: Factory, db: Database
) -> None:
    engine = factory.engine_key()
    body = report_body()
    with clock.frozen(datetime(2026, 2, 10, 14, 30, 46, tzinfo=UTC)) as frozen:
        first = client.post("/threats/report", json=body, headers=engine.headers)
        counts, before = stored_counts(db), _snapshot(db, body["incident_id"])
        frozen.advance(seconds=30)
        again = client.post("/threats/report", json=body, headers=engine.headers)

    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert stored_counts(db) == counts
    assert _snapshot(db, body["incident_id"]) == before


def test_a_retry_in_another_key_form_or_field_order_is_the_same_report(
    client: TestClient, factory: Factory, db: Database
) -> None:
    engine = factory.engine_key()
    body = report_body()
    first = client.post("/threats/report", json=body, headers=engine.headers)
    reordered = dict(reversed(list(body.items())))
    again = client.post("/threats/report", json=reordered, headers={"X-API-Key": engine.key})
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert stored_counts(db)["incidents"] == 1


def test_the_same_id_with_a_different_body_is_a_conflict_and_changes_nothing(
    client: TestClient, factory: Factory, db: Database
) -> None:
    engine = factory.engine_key()
    body = report_body()
    assert client.post("/threats/report", json=body, headers=engine.headers).status_code == 200
    counts, before = stored_counts(db), _snapshot(db, body["incident_id"])

    changes: list[dict[str, object]] = [
        {"threat_score": 0.88},
        {"threat_level": "LOW"},
        {"full_telemetry": {}},
    ]
    for change in changes:
        response = client.post("/threats/report", json={**body, **change}, headers=engine.headers)
        assert response.status_code == 409, change
        assert body["incident_id"] in response.json()["detail"]
    assert stored_counts(db) == counts
    assert _snapshot(db, body["incident_id"]) == before


def test_the_same_id_from_another_engine_is_a_conflict(
    client: TestClient, factory: Factory, db: Database
) -> None:
    body = report_body()
    first, other = factory.engine_key(), factory.engine_key()
    assert client.post("/threats/report", json=body, headers=first.headers).status_code == 200
    assert client.post("/threats/report", json=body, headers=other.headers).status_code == 409
    assert stored_counts(db)["incidents"] == 1


@pytest.mark.parametrize("settings_overrides", [ONE_CLIENT_UNLIMITED])
def test_concurrent_identical_reports_make_exactly_one_incident(
    live_server: LiveServer, factory: Factory, db: Database
) -> None:
    engine = factory.engine_key()
    body = report_body()
    start = threading.Barrier(CONCURRENT_RETRIES)

    def send(_: int) -> httpx.Response:
        with httpx.Client(base_url=live_server.url, headers=engine.headers, timeout=30) as http:
            start.wait()
            return http.post("/threats/report", json=body)

    with ThreadPoolExecutor(max_workers=CONCURRENT_RETRIES) as pool:
        responses = list(pool.map(send, range(CONCURRENT_RETRIES)))

    assert [r.status_code for r in responses] == [200] * CONCURRENT_RETRIES
    assert len({r.text for r in responses}) == 1
    counts = stored_counts(db)
    assert counts["incidents"] == 1
    assert counts["incident_actions"] == len(responses[0].json()["actions"])
