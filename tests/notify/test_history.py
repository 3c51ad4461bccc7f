"""The notifications history (``GET /deliveries``) across incidents and alerts: filters, counts, failed ones
first, paging, time to deliver; contacts' addresses for authorities only and never in the log."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from safesphere.core import clock
from safesphere.core.config import Settings
from safesphere.core.db import Database
from safesphere.notify.senders import SendResult
from safesphere.notify.worker import Attempt, claim_due, record_attempts
from tests.factories import Account, Factory
from tests.incidents.reports import report_body

T0 = datetime(2026, 3, 14, 20, 0, tzinfo=UTC)
PHONE = "+33600000042"
CONTACT = {"name": "Ana", "relation": "sister", "phone": PHONE, "email": "ana@example.com"}
DEAD = "http://127.0.0.1:9"
"""Nothing listens there: the test decides each attempt's outcome itself."""


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    # No escalation pages: the test decides every message (its clock jumps hours).
    return {"delivery_max_attempts": 1, "access_token_ttl_s": 86400, "escalation_rounds": 0}


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def text(self) -> str:
        return "\n".join(f"{r.getMessage()} {r.__dict__}" for r in self.records)


@pytest.fixture
def records() -> Iterator[Records]:
    handler = Records()
    logger = logging.getLogger("safesphere")
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)


def _channel(client: TestClient, admin: Account, name: str, kind: str, role: str, path: str) -> None:
    body = {"name": name, "kind": kind, "config": {"url": f"{DEAD}/{path}"}, "roles": [role]}
    response = client.post("/admin/channels", json=body, headers=admin.headers)
    assert response.status_code == 201, response.text


def _report(client: TestClient, factory: Factory, level: str, owner: Account | None = None) -> str:
    body = report_body(threat_level=level, is_critical=level == "CRITICAL", timestamp=clock.now().isoformat())
    response = client.post("/threats/report", json=body, headers=factory.engine_key(owner=owner).headers)
    assert response.status_code == 200, response.text
    return str(body["incident_id"])


@pytest.fixture
def moving() -> Iterator[clock.FrozenClock]:
    with clock.frozen(T0) as frozen:
        yield frozen


def _night(client: TestClient, factory: Factory, db: Database, settings: Settings,
           moving: clock.FrozenClock) -> dict[str, Any]:  # fmt: skip
    """A HIGH report of a tourist's phone (police, the contact by SMS), a CRITICAL one of a camera an hour
    later, the tourist's SOS an hour after that; every message sent at once then, the contact's failing."""
    admin, officer, owner = factory.admin(), factory.authority(), factory.tourist()
    _channel(client, admin, "police-hook", "webhook", "police", "dispatch")
    _channel(client, admin, "sms-gw", "sms", "contacts_sms", "sms")
    assert client.post("/me/contacts", json=CONTACT, headers=owner.headers).status_code == 201
    high = _report(client, factory, "HIGH", owner)
    moving.set(T0 + timedelta(hours=1))
    critical = _report(client, factory, "CRITICAL")
    moving.set(T0 + timedelta(hours=2))
    sos = client.post("/sos", json={"message": "help", "lat": 48.85, "lon": 2.35}, headers=owner.headers)
    assert sos.status_code == 201, sos.text
    moving.advance(seconds=2)
    claimed = claim_due(db, settings, limit=1000)
    attempts = [
        Attempt(
            c,
            SendResult(ok=False, error=f"HTTP 400: unknown number {PHONE}"),
            clock.now(),
            clock.now(),
            1.0,
        )
        if c.message.address == PHONE
        else Attempt(c, SendResult(ok=True), clock.now(), clock.now(), 1.0)
        for c in claimed
    ]
    record_attempts(db, settings, attempts)
    return {"officer": officer, "owner": owner, "high": high, "critical": critical,
            "sos": sos.json()["alert_id"], "claimed": len(claimed)}  # fmt: skip


def _page(client: TestClient, officer: Account, **params: Any) -> dict[str, Any]:
    response = client.get("/deliveries", params={"limit": 1000, **params}, headers=officer.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_the_history_lists_every_delivery_failed_first_with_counts_and_filters(
    client: TestClient,
    factory: Factory,
    db: Database,
    settings: Settings,
    records: Records,
    moving: clock.FrozenClock,
) -> None:
    night = _night(client, factory, db, settings, moving)
    officer = night["officer"]
    everything = _page(client, officer)
    rows = everything["deliveries"]
    assert len(rows) == everything["total"] == night["claimed"]
    failed = [r for r in rows if r["status"] == "failed"]
    assert failed and all(r["audience"] == "contact" and r["recipient"] == PHONE for r in failed)
    assert everything["counts"] == {"pending": 0, "sending": 0, "sent": len(rows) - len(failed),
                                    "failed": len(failed), "cancelled": 0}  # fmt: skip
    assert {r["incident_id"] for r in rows} == {night["high"], night["critical"], None}
    sos_rows = [r for r in rows if r["incident_id"] is None]
    assert {(r["source_kind"], r["source_id"]) for r in sos_rows} == {("safety_alert", str(night["sos"]))}
    assert all(r["last_error"] == f"HTTP 400: unknown number {PHONE}" and r["attempts"] == 1 for r in failed)

    ordered = _page(client, officer, order="failed_first")["deliveries"]
    assert [r["id"] for r in ordered] == [r["id"] for r in failed] + [
        r["id"] for r in rows if r not in failed
    ]
    paged = [
        row
        for offset in range(0, len(rows), 2)
        for row in _page(client, officer, order="failed_first", limit=2, offset=offset)["deliveries"]
    ]
    assert [r["id"] for r in paged] == [r["id"] for r in ordered], "pages across the failed ones join up"

    by_sms = _page(client, officer, channel="sms-gw")
    assert by_sms["deliveries"] == failed and by_sms["counts"]["failed"] == by_sms["total"] == len(failed)
    police_sent = _page(client, officer, audience="police", status="sent")
    assert police_sent["total"] == len(police_sent["deliveries"]) >= 3
    assert police_sent["counts"]["failed"] == 0 and police_sent["counts"]["sent"] == police_sent["total"]
    delays = {r["incident_id"] or "sos": r["deliver_ms"] for r in police_sent["deliveries"]}
    assert delays == {night["high"]: 7_202_000, night["critical"]: 3_602_000, "sos": 2_000}
    hour = {"since": (T0 + timedelta(hours=1)).isoformat(), "until": (T0 + timedelta(hours=2)).isoformat()}
    assert {r["incident_id"] for r in _page(client, officer, **hour)["deliveries"]} == {night["critical"]}

    assert PHONE not in records.text() and "sms-gw:" not in records.text(), "no contact address in the log"
    assert any("failed after 1 attempts" in r.getMessage() for r in records.records)


BAD_QUERIES: list[tuple[dict[str, Any], str]] = [
    ({"channel": "Not a name!"}, "channel"),
    ({"audience": "tourists"}, "audience"),
    ({"status": "lost"}, "status"),
    ({"order": "oldest"}, "order"),
    ({"since": "2026-03-14T10:00:00Z", "until": "2026-03-14T09:00:00Z"}, "until"),
    ({"since": "soon"}, "since"),
    ({"offset": 10**8}, "offset"),
    ({"limit": 0}, "limit"),
]


def test_bad_filters_are_a_422_naming_the_field_and_only_authorities_read_it(
    client: TestClient, factory: Factory
) -> None:
    officer = factory.authority()
    for params, field in BAD_QUERIES:
        response = client.get("/deliveries", params=params, headers=officer.headers)
        assert response.status_code == 422, (params, response.text)
        assert response.json()["detail"][0]["loc"] == ["query", field], params
    assert client.get("/deliveries", headers=factory.tourist().headers).status_code == 403
    assert client.get("/deliveries").status_code == 401
