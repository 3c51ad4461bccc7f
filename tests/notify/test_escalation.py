"""An unacknowledged HIGH/CRITICAL incident pages the police again, then the supervisor; acknowledging it
stops escalation at once: no escalation message leaves afterwards."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests.factories import Factory
from tests.incidents.reports import report_body
from tests.notify.conftest import FAST_RETRIES
from tests.support.receivers import HttpReceiver, http_receiver, wait_for

ESCALATE_AFTER_S = 0.4


@pytest.fixture
def supervisor() -> Iterator[HttpReceiver]:
    with http_receiver() as receiver:
        yield receiver


@pytest.fixture
def settings_overrides(police: HttpReceiver, supervisor: HttpReceiver) -> dict[str, object]:
    return {
        **FAST_RETRIES,
        "police_webhook_url": f"{police.url}/dispatch",
        "supervisor_webhook_url": f"{supervisor.url}/supervisor",
        "escalation_after_critical_s": ESCALATE_AFTER_S,
        "escalation_after_high_s": ESCALATE_AFTER_S * 2,
        "escalation_rounds": 3,
        "escalation_poll_interval_s": 0.05,
    }


def _escalations(receiver: HttpReceiver) -> list[dict[str, object]]:
    bodies = [json.loads(r.body) for r in list(receiver.requests)]
    return [b for b in bodies if b.get("event") == "escalation"]


def test_an_unacknowledged_critical_escalates_to_police_then_supervisor_and_stops_after_the_last_round(
    client: TestClient, factory: Factory, police: HttpReceiver, supervisor: HttpReceiver
) -> None:
    officer = factory.authority()
    body = report_body(weapon_detected=False, weapon_types=[])
    assert client.post("/threats/report", json=body, headers=factory.engine_key().headers).status_code == 200

    rounds = wait_for(lambda: len(_escalations(police)) == 3 and _escalations(police), what="three rounds")
    assert [r["round"] for r in rounds] == [1, 2, 3]
    assert all(r["incident_id"] == body["incident_id"] for r in rounds)
    paged = wait_for(
        lambda: len(_escalations(supervisor)) == 2 and _escalations(supervisor), what="supervisor"
    )
    assert [r["round"] for r in paged] == [2, 3]
    timeline = client.get(f"/incidents/{body['incident_id']}/timeline", headers=officer.headers).json()
    assert [e["details"]["round"] for e in timeline["entries"] if e["kind"] == "escalated"] == [1, 2, 3]
    time.sleep(ESCALATE_AFTER_S * 3)
    assert len(_escalations(police)) == 3  # the last round was the last


def test_acknowledging_stops_escalation_at_once(
    client: TestClient, factory: Factory, police: HttpReceiver, supervisor: HttpReceiver
) -> None:
    officer = factory.authority()
    body = report_body(weapon_detected=False, weapon_types=[])
    assert client.post("/threats/report", json=body, headers=factory.engine_key().headers).status_code == 200
    wait_for(lambda: _escalations(police), what="the first escalation round")

    ack = client.post(f"/incidents/{body['incident_id']}/acknowledge", headers=officer.headers)
    assert ack.status_code == 200
    seen_at_ack = len(_escalations(police)) + len(_escalations(supervisor))
    time.sleep(ESCALATE_AFTER_S * 4)  # long enough for two more rounds, had they not been stopped

    assert len(_escalations(police)) + len(_escalations(supervisor)) == seen_at_ack
    rows = client.get("/deliveries", params={"source_kind": "escalation"}, headers=officer.headers).json()
    after_ack = [d for d in rows["deliveries"] if d["created_at"] > ack.json()["acknowledged_at"]]
    assert after_ack == []
    assert all(d["status"] in ("sent", "cancelled") for d in rows["deliveries"])


def test_a_low_or_acknowledged_before_the_deadline_never_escalates(
    client: TestClient, factory: Factory, police: HttpReceiver
) -> None:
    officer = factory.authority()
    low = report_body(threat_level="LOW", is_critical=False, weapon_detected=False, weapon_types=[])
    high = report_body(threat_level="HIGH", is_critical=False, weapon_detected=False, weapon_types=[])
    engine = factory.engine_key()
    assert client.post("/threats/report", json=low, headers=engine.headers).status_code == 200
    assert client.post("/threats/report", json=high, headers=engine.headers).status_code == 200
    assert (
        client.post(f"/incidents/{high['incident_id']}/acknowledge", headers=officer.headers).status_code
        == 200
    )

    wait_for(lambda: police.requests, what="the HIGH's police page")
    time.sleep(ESCALATE_AFTER_S * 3)
    assert _escalations(police) == []
