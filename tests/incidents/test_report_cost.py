"""A report's work is written in bulk: its statement count does not grow with the people it reaches,
and the delivery worker records a whole round of attempts in a fixed number of statements."""

from __future__ import annotations

import functools
from typing import Any

import pytest
from fastapi.testclient import TestClient

from safesphere.auth.access import EnginePrincipal
from safesphere.core import clock
from safesphere.core.config import Settings
from safesphere.core.db import Database
from safesphere.core.writer import Writer
from safesphere.incidents import replays, service
from safesphere.incidents.schemas import ThreatReportIn
from safesphere.notify.senders import SendResult
from safesphere.notify.worker import Attempt, claim_due, record_attempts
from tests.factories import Account, Factory
from tests.incidents.reports import report_body
from tests.support.statements import counting
from tests.support.writer import held
from tests.tracking.fixtures import SPOT, fix_body


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    """No background task may query while statements are counted; escalation stays on (its clock is set
    in the report's insert, not by a statement of its own)."""
    return {"rescore_interval_s": 0, "escalation_poll_interval_s": 3600}


BATCHED_REPORTS = 5
EXPECTED_REPORT_STATEMENTS = 20
"""A located CRITICAL armed report of a camera with an owner (its key known to admission already, so the
route reads nothing): the engine key's row re-read in the unit, the replay probe, INSERT incident, two
timeline entries around the share link's INSERT, the incident's safety alert, contacts, owner, the owner's
latest fix and the nearest police station (two queries when none is registered) for the safe route step,
INSERT actions, INSERT incident alerts, channels, INSERT deliveries (a key stored already is left alone
by the insert itself), tourists seen nearby, INSERT their warnings, their Web Push devices (none here, so
no insert), INSERT device commands (transaction starts and ends are not counted). Tests group nothing, so
there is no open-incident lookup. Pinned, so a per-row or per-person regression shows."""


def _protected_person(client: TestClient, factory: Factory, contacts: int) -> Account:
    owner = factory.tourist()
    for n in range(contacts):
        contact = {"name": f"Contact {n}", "relation": "friend", "email": f"c{n}-{owner.user.id}@example.com"}
        assert client.post("/me/contacts", json=contact, headers=owner.headers).status_code == 201
    return owner


def _tourists_seen_at_the_spot(client: TestClient, factory: Factory, count: int) -> None:
    for _ in range(count):
        tourist = factory.tourist()
        response = client.post("/location/update", json=fix_body(clock.now()), headers=tourist.headers)
        assert response.status_code == 200, response.text


def _report_statements(client: TestClient, factory: Factory, db: Database, *, people: int) -> int:
    owner = _protected_person(client, factory, contacts=people)
    camera = factory.engine_key(owner=owner, latitude=SPOT[0], longitude=SPOT[1])
    _tourists_seen_at_the_spot(client, factory, count=people)
    first = client.post("/threats/report", json=report_body(), headers=camera.headers)
    assert first.status_code == 200, first.text  # admission now remembers the key, as in steady state
    with counting(db) as statements:
        response = client.post("/threats/report", json=report_body(), headers=camera.headers)
    assert response.status_code == 200, response.text
    assert response.json()["commands"], "a CRITICAL report gives its device commands"
    return len(statements)


def test_a_report_costs_the_same_statements_however_many_people_it_reaches(
    client: TestClient, factory: Factory, db: Database
) -> None:
    few = _report_statements(client, factory, db, people=1)
    many = _report_statements(client, factory, db, people=6)
    assert few == many == EXPECTED_REPORT_STATEMENTS


SAVEPOINT_STATEMENTS = 2
"""A unit in a batch of several runs in its own savepoint (SAVEPOINT, RELEASE) so that its failure rolls
back only itself; a unit alone in its transaction needs none."""


def test_reports_sharing_a_batch_cost_their_own_statements_and_one_transaction(
    client: TestClient, factory: Factory, db: Database, settings: Settings
) -> None:
    """Reports that wait for the writer together are one transaction (``core.writer``): each still costs
    exactly its own statements (plus its savepoint), so a batch of N costs N reports and one commit."""
    owner = _protected_person(client, factory, contacts=1)
    camera = factory.engine_key(owner=owner, latitude=SPOT[0], longitude=SPOT[1])
    _tourists_seen_at_the_spot(client, factory, count=1)
    state: Any = client.app.state  # type: ignore[attr-defined]
    writer: Writer = state.writer
    engine = EnginePrincipal(camera.key_id, camera.name, owner.user.id, SPOT[0], SPOT[1])
    reports = [ThreatReportIn.model_validate(report_body()) for _ in range(BATCHED_REPORTS)]
    units = [
        functools.partial(
            service.record_report, settings=settings, protocol=state.protocol, engine=engine,
            report=report, request_hash=replays.request_hash(report),
        )
        for report in reports
    ]  # fmt: skip
    batches = writer.batches
    with counting(db) as statements:
        with held(writer):
            futures = [writer.submit(unit) for unit in units]
        outcomes = [future.result(timeout=30) for future in futures]
    assert [outcome.incident.incident_id for outcome in outcomes] == [r.incident_id for r in reports]
    assert writer.batches - batches == 2, "the unit that held the writer, then all the reports together"
    per_report = EXPECTED_REPORT_STATEMENTS + SAVEPOINT_STATEMENTS
    assert len(statements) == BATCHED_REPORTS * per_report


def test_a_round_of_attempts_is_recorded_in_a_fixed_number_of_statements(
    client: TestClient, factory: Factory, db: Database, settings: Settings
) -> None:
    camera = factory.engine_key(latitude=SPOT[0], longitude=SPOT[1])

    def record_a_round(reports: int) -> int:
        for _ in range(reports):
            body = report_body(threat_level="HIGH", weapon_detected=False, weapon_types=[], is_critical=False)
            assert client.post("/threats/report", json=body, headers=camera.headers).status_code == 200
        claimed = claim_due(db, settings, limit=1000)
        assert len(claimed) >= reports
        now = clock.now()
        attempts = [Attempt(item, SendResult(ok=True), now, now, 1.0) for item in claimed]
        with counting(db) as statements:
            record_attempts(db, settings, attempts)
        return len(statements)

    assert record_a_round(1) == record_a_round(12)


def test_a_round_is_claimed_in_one_statement(
    client: TestClient, factory: Factory, db: Database, settings: Settings
) -> None:
    """Finding the due deliveries, leasing them and reading them back is one UPDATE ... RETURNING, however
    many the round takes (escalation pages add the one check for acknowledged incidents)."""
    camera = factory.engine_key(latitude=SPOT[0], longitude=SPOT[1])
    for _ in range(5):
        body = report_body(threat_level="HIGH", weapon_detected=False, weapon_types=[], is_critical=False)
        assert client.post("/threats/report", json=body, headers=camera.headers).status_code == 200
    with counting(db) as statements:
        claimed = claim_due(db, settings, limit=1000)
    assert len(claimed) >= 5
    assert len(statements) == 1, statements
    assert all(item.attempt == 1 for item in claimed)
    with counting(db) as statements:
        assert claim_due(db, settings, limit=1000) == []  # leased: not due again
    assert len(statements) == 1


def test_a_recorded_round_gives_each_delivery_and_source_its_own_outcome(
    client: TestClient, factory: Factory, db: Database, settings: Settings
) -> None:
    """Set-based recording still moves each delivery, incident alert and incident on by its own attempt:
    a failed attempt leaves its delivery pending (retried later) and its alert unsent."""
    camera = factory.engine_key(latitude=SPOT[0], longitude=SPOT[1])
    officer = factory.authority()
    incident_ids = []
    for _ in range(3):
        body = report_body(threat_level="HIGH", weapon_detected=False, weapon_types=[], is_critical=False)
        response = client.post("/threats/report", json=body, headers=camera.headers)
        incident_ids.append(response.json()["incident_id"])
    claimed = claim_due(db, settings, limit=1000)
    failing = next(item for item in claimed if item.message.payload["incident_id"] == incident_ids[0])
    now = clock.now()
    attempts = [
        Attempt(item, SendResult(ok=False, error="receiver down") if item is failing else SendResult(ok=True),
                now, now, 1.0)
        for item in claimed
    ]  # fmt: skip
    record_attempts(db, settings, attempts)

    deliveries = client.get("/deliveries", params={"limit": 1000}, headers=officer.headers).json()
    by_id = {d["id"]: d for d in deliveries["deliveries"]}
    assert by_id[failing.id]["status"] == "pending"
    assert by_id[failing.id]["last_error"] == "receiver down"
    assert all(d["status"] == "sent" for d in by_id.values() if d["id"] != failing.id)
    for incident_id in incident_ids:
        incident = client.get(f"/incidents/{incident_id}", headers=officer.headers).json()
        alert_statuses = {a["status"] for a in incident["alerts"]}
        if incident_id == incident_ids[0]:
            assert "pending" in alert_statuses
        else:
            assert alert_statuses <= {"sent", "no_recipients"}
            assert incident["response_time_ms"] is not None
