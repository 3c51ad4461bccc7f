"""GET /metrics: what an operator alerts on, read from the database, for admins and the scrape token."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from safesphere.core import clock
from safesphere.core.db import Database
from safesphere.notify.models import Delivery
from tests.factories import Factory
from tests.incidents.reports import report_body

SCRAPE_TOKEN = "scrape-token-for-the-tests-0123456789"


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    # No escalation pass in the background: with the clock moved on 90 s it may re-page the unacknowledged
    # CRITICAL between the test's count of pending pages and its scrape (CI saw 4 pending for 3).
    return {"metrics_token": SCRAPE_TOKEN, "escalation_rounds": 0}


Values = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def _scrape(client: TestClient, headers: dict[str, str]) -> Values:
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=")  # Prometheus text format
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def test_an_empty_system_reports_zeros_and_the_process(client: TestClient, factory: Factory) -> None:
    values = _scrape(client, factory.admin().headers)
    assert values[("safesphere_deliveries_waiting", (("status", "pending"),))] == 0
    assert values[("safesphere_delivery_oldest_waiting_seconds", ())] == 0
    assert values[("safesphere_incidents_open", (("threat_level", "CRITICAL"),))] == 0
    assert values[("safesphere_incident_oldest_unacknowledged_seconds", ())] == 0
    assert values[("safesphere_tourists_active", ())] == 0
    assert values[("process_resident_memory_bytes", ())] > 0


def test_waiting_pages_unacknowledged_incidents_alerts_and_tourists_are_counted(
    client: TestClient, factory: Factory, db: Database
) -> None:
    engine, officer, tourist = factory.engine_key(), factory.authority(), factory.tourist()
    start = clock.now()
    with clock.frozen(start):
        critical = report_body(threat_level="CRITICAL")
        high = report_body(threat_level="HIGH", weapon_detected=False, weapon_types=[], is_critical=False)
        for body in (critical, high):
            assert client.post("/threats/report", json=body, headers=engine.headers).status_code == 200
        ack = client.post(f"/incidents/{high['incident_id']}/acknowledge", json={}, headers=officer.headers)
        assert ack.status_code == 200, ack.text
        fix = {"lat": 48.137, "lon": 11.575, "timestamp": start.isoformat()}
        assert client.post("/location/update", json=fix, headers=tourist.headers).status_code == 200
        assert client.post("/sos", headers=tourist.headers).status_code == 201
    with db.session() as session:
        pending = sa.select(sa.func.count()).select_from(Delivery).where(Delivery.status == "pending")
        waiting = session.scalar(pending)
        first = session.scalar(sa.select(sa.func.min(Delivery.id)))
        session.execute(sa.update(Delivery).where(Delivery.id == first).values(status="failed"))
        session.commit()
    assert waiting and waiting > 1  # the delivery worker is off in tests: every page is still pending

    with clock.frozen(start + timedelta(seconds=90)):
        values = _scrape(client, {"Authorization": f"Bearer {SCRAPE_TOKEN}"})

    assert values[("safesphere_incidents_open", (("threat_level", "CRITICAL"),))] == 1
    assert values[("safesphere_incidents_open", (("threat_level", "HIGH"),))] == 1
    assert values[("safesphere_incidents_unacknowledged", (("threat_level", "CRITICAL"),))] == 1
    assert values[("safesphere_incidents_unacknowledged", (("threat_level", "HIGH"),))] == 0
    assert values[("safesphere_incident_oldest_unacknowledged_seconds", ())] == pytest.approx(90, abs=1)
    assert values[("safesphere_deliveries_waiting", (("status", "pending"),))] == waiting - 1
    assert values[("safesphere_deliveries_failed", ())] == 1
    assert values[("safesphere_delivery_oldest_waiting_seconds", ())] == pytest.approx(90, abs=1)
    assert values[("safesphere_alerts_not_resolved", (("status", "open"), ("type", "sos")))] == 1
    assert values[("safesphere_tourists_active", ())] == 1
    admin = factory.admin()
    with clock.frozen(start + timedelta(minutes=16)):
        later = _scrape(client, admin.headers)
    assert later[("safesphere_tourists_active", ())] == 0  # no fix for 16 minutes


def test_only_admins_and_the_scrape_token_may_read_metrics(client: TestClient, factory: Factory) -> None:
    refused = {
        "anonymous": ({}, 401),
        "wrong token": ({"Authorization": "Bearer not-the-token"}, 401),
        "tourist": (factory.tourist().headers, 403),
        "authority": (factory.authority().headers, 403),
        "engine": (factory.engine_key().headers, 403),
    }
    got = {who: client.get("/metrics", headers=headers).status_code for who, (headers, _) in refused.items()}
    assert got == {who: status for who, (_, status) in refused.items()}
    assert client.get("/metrics", headers={"Authorization": f"Bearer {SCRAPE_TOKEN}"}).status_code == 200
