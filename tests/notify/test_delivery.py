"""Every alert reaches its receivers for real: signed webhooks, SMTP e-mail, SMS gateway; retried until
the receiver is back, exactly once per idempotency key, failed and visible when it never is."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs

from fastapi.testclient import TestClient

from safesphere.core.db import Database
from tests.factories import Account, Factory
from tests.incidents.reports import report_body
from tests.notify.conftest import POLICE_SECRET
from tests.support.receivers import HttpReceiver, SmtpReceiver, signature_is_valid, wait_for

CONTACT = {"name": "Ana", "relation": "sister", "phone": "+33600000001", "email": "ana@example.com"}


def _owner_with_contact(client: TestClient, factory: Factory) -> Account:
    owner = factory.tourist()
    assert client.post("/me/contacts", json=CONTACT, headers=owner.headers).status_code == 201
    return owner


def _deliveries(client: TestClient, officer: Account, **query: str) -> list[dict[str, Any]]:
    response = client.get("/deliveries", params={"limit": 1000, **query}, headers=officer.headers)
    assert response.status_code == 200, response.text
    return list(response.json()["deliveries"])


def _settled(client: TestClient, officer: Account, incident_id: str) -> list[dict[str, Any]]:
    """The incident's deliveries once none is pending or being sent any more."""
    rows = _deliveries(client, officer, incident_id=incident_id)
    return rows if rows and all(d["status"] in ("sent", "failed") for d in rows) else []


def test_a_critical_report_pages_the_police_webhook_signed_and_sets_the_time_to_notify(
    client: TestClient, factory: Factory, police: HttpReceiver
) -> None:
    officer = factory.authority()
    body = report_body()  # CRITICAL with a gun: priority dispatch and armed-threat escalation
    assert client.post("/threats/report", json=body, headers=factory.engine_key().headers).status_code == 200

    wait_for(lambda: len(police.requests) == 2, what="two police webhooks")
    for request in police.requests:
        assert request.path == "/dispatch"
        assert signature_is_valid(request, POLICE_SECRET)
        payload = json.loads(request.body)
        assert payload["incident_id"] == body["incident_id"]
        assert payload["threat_level"] == "CRITICAL"
        assert payload["idempotency_key"] == request.headers["webhook-id"]
    assert {json.loads(r.body)["alert_type"] for r in police.requests} == {"police_dispatch", "armed_threat"}
    wait_for(lambda: _settled(client, officer, body["incident_id"]), what="deliveries to settle")
    incident = client.get(f"/incidents/{body['incident_id']}", headers=officer.headers).json()
    police_alerts = [a for a in incident["alerts"] if a["recipient"] == "police_dispatch"]
    assert {a["status"] for a in police_alerts} == {"sent"}
    assert all(a["sent_at"] for a in police_alerts)
    assert isinstance(incident["response_time_ms"], int) and incident["response_time_ms"] >= 0


def test_a_forged_signature_would_not_verify(
    client: TestClient, factory: Factory, police: HttpReceiver
) -> None:
    """The receiver's check is a real one: another secret fails it."""
    assert (
        client.post("/threats/report", json=report_body(), headers=factory.engine_key().headers).status_code
        == 200
    )
    wait_for(lambda: police.requests, what="a police webhook")
    other = "whsec_" + "b3RoZXItc2VjcmV0LW5vdC10aGUtcG9saWNlLW9uZQ=="
    assert not signature_is_valid(police.requests[0], other)


def test_contacts_get_email_and_sms_and_the_user_is_told(
    client: TestClient, factory: Factory, mail: SmtpReceiver, gateway: HttpReceiver
) -> None:
    owner = _owner_with_contact(client, factory)
    body = report_body(threat_level="HIGH", is_critical=False, weapon_detected=False, weapon_types=[])
    engine = factory.engine_key(owner=owner)
    assert client.post("/threats/report", json=body, headers=engine.headers).status_code == 200

    # HIGH: "notify emergency contacts" and "share live location" each reach the contact by e-mail and SMS.
    wait_for(
        lambda: len([m for _, m in mail.messages if m["To"] == CONTACT["email"]]) == 2, what="two e-mails"
    )
    to_contact = [m for _, m in mail.messages if m["To"] == CONTACT["email"]]
    assert all(m["From"] == "alerts@safesphere.test" for m in to_contact)
    assert any(body["incident_id"] in m.get_payload() for m in to_contact)
    assert all(m["Message-ID"].startswith("<incident_alert.") for m in to_contact)
    sms = wait_for(
        lambda: [r for r in gateway.requests if parse_qs(r.body.decode())["to"] == [CONTACT["phone"]]],
        what="SMS to the contact",
    )
    form = parse_qs(sms[0].body.decode())
    assert sms[0].path == "/sms"
    assert sms[0].headers["authorization"].startswith("Basic ")
    assert "HIGH threat" in form["message"][0] or "Live location" in form["message"][0]


def test_a_receiver_down_for_a_while_gets_each_message_once_after_it_recovers(
    client: TestClient, factory: Factory, police: HttpReceiver
) -> None:
    officer = factory.authority()
    police.fail_next(5)  # down for the first five tries
    body = report_body()
    assert client.post("/threats/report", json=body, headers=factory.engine_key().headers).status_code == 200

    rows = wait_for(lambda: _settled(client, officer, body["incident_id"]), what="deliveries to settle")
    to_police = [d for d in rows if d["audience"] == "police"]
    assert {d["status"] for d in to_police} == {"sent"}
    assert sum(d["attempts"] for d in to_police) == 2 + 5
    grouped = police.by_webhook_id()
    assert sorted(grouped) == sorted(d["idempotency_key"] for d in to_police)
    assert all(len(requests) == 1 for requests in grouped.values())
    detail = client.get(f"/deliveries/{to_police[0]['id']}", headers=officer.headers).json()
    log = detail["attempt_log"]
    assert [a["number"] for a in log] == list(range(1, len(log) + 1))
    assert log[-1]["outcome"] == "sent" and log[-1]["status_code"] == 200
    assert all(a["outcome"] == "error" and a["status_code"] == 503 for a in log[:-1])


def test_a_receiver_that_never_recovers_leaves_a_failed_delivery_with_every_attempt(
    client: TestClient, factory: Factory, police: HttpReceiver
) -> None:
    officer = factory.authority()
    police.fail_always(500)
    body = report_body(weapon_detected=False, weapon_types=[])
    assert client.post("/threats/report", json=body, headers=factory.engine_key().headers).status_code == 200

    rows = wait_for(lambda: _settled(client, officer, body["incident_id"]), what="deliveries to settle")
    failed = [d for d in rows if d["audience"] == "police"]
    assert [d["status"] for d in failed] == ["failed"]
    assert failed[0]["attempts"] == 4 and "HTTP 500" in failed[0]["last_error"]
    detail = client.get(f"/deliveries/{failed[0]['id']}", headers=officer.headers).json()
    assert len(detail["attempt_log"]) == 4
    assert _deliveries(client, officer, status="failed")[0]["id"] == failed[0]["id"]
    incident = client.get(f"/incidents/{body['incident_id']}", headers=officer.headers).json()
    assert [a["status"] for a in incident["alerts"] if a["recipient"] == "police_dispatch"] == ["failed"]


def test_retrying_the_same_report_never_sends_twice(
    client: TestClient, factory: Factory, police: HttpReceiver, db: Database
) -> None:
    officer = factory.authority()
    engine = factory.engine_key()
    body = report_body()
    for _ in range(3):
        assert client.post("/threats/report", json=body, headers=engine.headers).status_code == 200

    rows = wait_for(lambda: _settled(client, officer, body["incident_id"]), what="deliveries to settle")
    assert len([d for d in rows if d["audience"] == "police"]) == 2
    assert len(police.requests) == 2
    assert all(len(requests) == 1 for requests in police.by_webhook_id().values())


def test_an_sos_reaches_the_police_and_the_tourists_contacts(
    client: TestClient, factory: Factory, police: HttpReceiver, mail: SmtpReceiver, gateway: HttpReceiver
) -> None:
    tourist = _owner_with_contact(client, factory)
    response = client.post(
        "/sos", json={"lat": 48.8584, "lon": 2.2945, "message": "Help"}, headers=tourist.headers
    )
    assert response.status_code in (200, 201), response.text
    alert_id = response.json()["alert_id"]

    request = wait_for(lambda: police.requests, what="the SOS at the police webhook")[0]
    assert signature_is_valid(request, POLICE_SECRET)
    payload = json.loads(request.body)
    assert (payload["event"], payload["alert_id"], payload["severity"]) == ("sos", alert_id, "critical")
    wait_for(lambda: [m for _, m in mail.messages if m["To"] == CONTACT["email"]], what="the SOS e-mail")
    wait_for(lambda: gateway.requests, what="the SOS text message")


def test_the_delivery_worker_claims_and_records_through_the_process_writer(
    client: TestClient, factory: Factory, police: HttpReceiver
) -> None:
    """Its claims and attempt records are units of the writer's batches (``core.writer``), committed
    with the reports', not transactions of their own."""
    writer = client.app.state.writer  # type: ignore[attr-defined]
    officer = factory.authority()
    before = writer.units
    body = report_body()
    assert client.post("/threats/report", json=body, headers=factory.engine_key().headers).status_code == 200
    wait_for(lambda: _settled(client, officer, body["incident_id"]), what="deliveries to settle")
    assert writer.units - before >= 3, "the report, a claim and a round of attempts"
