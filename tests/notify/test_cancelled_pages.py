"""An escalation page queued just before an officer acknowledges the incident is cancelled, not sent."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from safesphere.core import clock
from safesphere.core.config import Settings
from safesphere.core.db import Database
from safesphere.incidents import escalation
from safesphere.notify.senders import SendResult
from safesphere.notify.worker import Attempt, claim_due, record_attempts
from tests.factories import Factory
from tests.incidents.reports import report_body


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    """The worker and the escalation task stay off: the test runs the worker's claim and one escalation
    pass itself, at times it chooses."""
    return {"escalation_rounds": 3, "escalation_poll_interval_s": 3600, "escalation_after_high_s": 60}


def _escalation_pages(client: TestClient, headers: dict[str, str]) -> list[dict[str, object]]:
    found = client.get("/deliveries", params={"source_kind": "escalation"}, headers=headers)
    assert found.status_code == 200, found.text
    return list(found.json()["deliveries"])


def test_a_page_queued_before_the_acknowledgement_is_cancelled_at_claim(
    client: TestClient, factory: Factory, db: Database, settings: Settings
) -> None:
    officer = factory.authority()
    waiting = report_body(threat_level="HIGH", is_critical=False, weapon_detected=False, weapon_types=[])
    acknowledged = report_body(threat_level="HIGH", is_critical=False, weapon_detected=False, weapon_types=[])
    engine = factory.engine_key()
    for body in (waiting, acknowledged):
        assert client.post("/threats/report", json=body, headers=engine.headers).status_code == 200
    sent = [Attempt(c, SendResult(ok=True), clock.now(), clock.now(), 1.0) for c in claim_due(db, settings)]
    record_attempts(db, settings, sent)  # the reports' own pages left; only escalation is to come

    with clock.frozen(clock.now() + timedelta(seconds=61)):
        assert escalation.escalate_due(database=db, settings=settings) == 2
        ack = client.post(f"/incidents/{acknowledged['incident_id']}/acknowledge", headers=officer.headers)
        assert ack.status_code == 200
        claimed = claim_due(db, settings, limit=1000)

    assert {c.message.payload["incident_id"] for c in claimed} == {waiting["incident_id"]}
    pages = {page["incident_id"]: page["status"] for page in _escalation_pages(client, officer.headers)}
    assert pages == {waiting["incident_id"]: "sending", acknowledged["incident_id"]: "cancelled"}
