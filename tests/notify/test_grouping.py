"""Repeated reports from one source within the grouping window stay incidents of their own, grouped into
its open incident instead of paging everyone again; a worse repeat escalates the open incident and runs
only the steps not taken yet. Proved at the police webhook receiver and in the outbox the deliveries are
written to."""

from __future__ import annotations

import io
import json
import random
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from PIL import Image

from safesphere.core.db import Database
from safesphere.incidents.models import Incident
from safesphere.notify.models import Delivery
from safesphere.simulate.telemetry import threat_cv_incident
from tests.factories import Account, EngineCredentials, Factory
from tests.incidents.reports import report_body
from tests.support.live import ONE_CLIENT_UNLIMITED, LiveServer
from tests.support.receivers import HttpReceiver, wait_for

WINDOW_S = 120
HIGH = {"threat_level": "HIGH", "is_critical": False, "weapon_detected": False, "weapon_types": []}
CRITICAL_UNARMED = {
    "threat_level": "CRITICAL",
    "is_critical": True,
    "weapon_detected": False,
    "weapon_types": [],
}
CONCURRENT_FIRST_REPORTS = 8


@pytest.fixture
def settings_overrides(settings_overrides: dict[str, object]) -> dict[str, object]:
    return {**settings_overrides, "grouping_window_s": WINDOW_S}


def _at(second: int, millisecond: int = 0) -> str:
    return f"2026-02-10T14:{30 + second // 60:02d}:{second % 60:02d}.{millisecond:03d}"


def _report(client: TestClient, engine: EngineCredentials, **body: Any) -> dict[str, Any]:
    response = client.post("/threats/report", json=report_body(**body), headers=engine.headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


def _outbox(db: Database) -> int:
    with db.read_session() as session:
        return session.scalar(sa.select(sa.func.count()).select_from(Delivery)) or 0


def _incident(client: TestClient, officer: Account, incident_id: str) -> dict[str, Any]:
    response = client.get(f"/incidents/{incident_id}", headers=officer.headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


def _timeline_kinds(client: TestClient, officer: Account, incident_id: str) -> list[str]:
    timeline = client.get(f"/incidents/{incident_id}/timeline", headers=officer.headers).json()
    return [entry["kind"] for entry in timeline["entries"]]


def test_repeats_of_the_same_or_a_lower_level_attach_and_page_nobody_again(
    client: TestClient, factory: Factory, db: Database, police: HttpReceiver
) -> None:
    officer, engine = factory.authority(), factory.engine_key()
    first = _report(client, engine, timestamp=_at(0), **HIGH)
    assert first["grouping"] is None and first["grouped"] is False and first["grouped_into"] is None
    wait_for(lambda: len(police.requests) == 1, what="the police page of the first report")
    queued = _outbox(db)

    repeats = [
        _report(client, engine, timestamp=_at(5), **HIGH),
        _report(client, engine, timestamp=_at(10), threat_level="LOW", is_critical=False,
                weapon_detected=False, weapon_types=[], threat_score=0.2),
        _report(client, engine, timestamp=_at(15), **{**HIGH, "people_count": 5}),
    ]  # fmt: skip

    for repeat in repeats:
        assert repeat["incident_id"] == repeat["report_id"] != first["incident_id"]
        assert (repeat["grouped"], repeat["grouped_into"]) == (True, first["incident_id"])
        assert repeat["grouping"] == "attached"
        assert {a["status"] for a in repeat["actions"]} == {"not_repeated"}
        assert f"grouped into open incident {first['incident_id']}" in repeat["message"]
    assert repeats[0]["action_taken"] == "ALERT_POLICE" and repeats[1]["action_taken"] == "MONITOR"
    assert [a["result"] for a in repeats[0]["actions"]] == [
        f"not repeated: open incident {first['incident_id']} already took it"
    ] * 4
    assert repeats[1]["actions"][0]["result"] == (
        f"not repeated: covered by open incident {first['incident_id']} (HIGH protocol)"
    )
    assert _outbox(db) == queued  # nothing new for anyone to receive, written in the report's transaction
    incident = _incident(client, officer, first["incident_id"])
    assert incident["threat_level"] == "HIGH"
    assert incident["duplicate_count"] == 3
    assert [r["incident_id"] for r in incident["grouped_reports"]] == [r["incident_id"] for r in repeats]
    assert incident["people_count"] == 5  # the worst head count seen
    assert incident["last_reported_at"].startswith("2026-02-10T14:30:15")
    assert _timeline_kinds(client, officer, first["incident_id"]).count("report_attached") == 3
    low = _incident(client, officer, repeats[1]["incident_id"])  # each report readable, kept whole
    assert (low["threat_level"], low["threat_score"], low["status"]) == ("LOW", 0.2, "grouped")
    assert low["grouped_into"] == first["incident_id"]
    assert low["full_telemetry"] == report_body()["full_telemetry"]
    assert _incident(client, officer, repeats[2]["incident_id"])["people_count"] == 5
    listed = client.get("/incidents", headers=officer.headers).json()
    assert listed["total"] == 4
    statistics = client.get("/statistics", headers=officer.headers).json()["statistics"]
    assert (statistics["total_incidents"], statistics["count_HIGH"], statistics["count_LOW"]) == (4, 3, 1)
    assert (statistics["grouped_reports"], statistics["open_cases"]) == (3, 1)
    assert len(police.requests) == 1


def test_a_worse_repeat_escalates_the_open_incident_and_runs_only_the_steps_not_taken(
    client: TestClient, factory: Factory, police: HttpReceiver
) -> None:
    officer, engine = factory.authority(), factory.engine_key()
    first = _report(client, engine, timestamp=_at(0), **HIGH)
    wait_for(lambda: len(police.requests) == 1, what="the HIGH page")

    worse = _report(client, engine, timestamp=_at(20))  # CRITICAL with a gun

    assert worse["grouped_into"] == first["incident_id"] != worse["incident_id"]
    assert worse["grouping"] == "escalated"
    assert worse["action_taken"] == "EMERGENCY_PROTOCOL"
    ran = {a["action_type"] for a in worse["actions"] if a["status"] == "executed"}
    assert ran >= {"police_dispatch", "armed_threat_escalation"}
    assert "start_recording" not in {a["action_type"] for a in worse["actions"]}
    pages = wait_for(lambda: len(police.requests) == 3 and police.requests, what="the CRITICAL pages")
    alert_types = [json.loads(r.body)["alert_type"] for r in pages]
    assert sorted(alert_types[1:]) == ["armed_threat", "police_dispatch"]
    assert {json.loads(r.body)["incident_id"] for r in pages} == {first["incident_id"]}
    incident = _incident(client, officer, first["incident_id"])
    assert (incident["threat_level"], incident["weapon_detected"], incident["weapon_types"]) == (
        "CRITICAL", True, ["gun"],
    )  # fmt: skip
    assert incident["action_taken"] == "EMERGENCY_PROTOCOL"
    assert "escalated_by_report" in _timeline_kinds(client, officer, first["incident_id"])
    own = _incident(client, officer, worse["incident_id"])
    assert (own["threat_level"], own["status"], own["action_taken"]) == (
        "CRITICAL", "grouped", "EMERGENCY_PROTOCOL",
    )  # fmt: skip
    assert own["actions"] == worse["actions"] and own["alerts"] == []  # the pages belong to the case

    again = _report(client, engine, timestamp=_at(25))  # the same CRITICAL: nothing new
    assert again["grouping"] == "attached"
    assert len(police.requests) == 3


def test_a_weapon_first_seen_in_a_repeat_of_the_same_level_runs_the_armed_threat_step_alone(
    client: TestClient, factory: Factory, db: Database, police: HttpReceiver
) -> None:
    engine = factory.engine_key()
    first = _report(client, engine, timestamp=_at(0), **CRITICAL_UNARMED)
    wait_for(lambda: len(police.requests) == 1, what="the priority dispatch")

    armed = _report(client, engine, timestamp=_at(3), weapon_types=["knife", "knife"])

    assert armed["grouping"] == "escalated"
    ran = [a["action_type"] for a in armed["actions"] if a["status"] == "executed"]
    assert ran == ["armed_threat_escalation"]
    assert {a["status"] for a in armed["actions"] if a["action_type"] != ran[0]} == {"not_repeated"}
    page = wait_for(lambda: len(police.requests) == 2 and police.requests[1], what="the armed-threat page")
    assert json.loads(page.body)["alert_type"] == "armed_threat"
    assert "knife" in json.loads(page.body)["message"]
    with db.read_session() as session:
        incident = session.scalar(sa.select(Incident).where(Incident.incident_id == first["incident_id"]))
    assert incident is not None and incident.weapon_types == ["knife"]


FIRST_SEEN, LAST_SEEN = 200, 500
"""An open incident seen from 14:33:20 to 14:38:20."""


@pytest.mark.parametrize(
    ("seen_at", "repeats"),
    [
        (_at(FIRST_SEEN - WINDOW_S), True),
        (_at(LAST_SEEN + WINDOW_S), True),
        (_at(350), True),
        (_at(FIRST_SEEN - WINDOW_S - 1, 999), False),
        (_at(LAST_SEEN + WINDOW_S, 1), False),
    ],
)
def test_the_window_stretches_around_the_span_the_incident_was_seen_in(
    client: TestClient, factory: Factory, seen_at: str, repeats: bool
) -> None:
    engine = factory.engine_key()
    first = _report(client, engine, timestamp=_at(FIRST_SEEN), **HIGH)
    for second in (FIRST_SEEN + WINDOW_S, FIRST_SEEN + 2 * WINDOW_S, LAST_SEEN):  # hops within the window
        assert _report(client, engine, timestamp=_at(second), **HIGH)["grouping"] == "attached"

    repeat = _report(client, engine, timestamp=seen_at, **HIGH)

    assert (repeat["grouped_into"] == first["incident_id"]) is repeats
    assert repeat["grouping"] == ("attached" if repeats else None)


def test_outside_the_window_another_source_or_a_closed_incident_opens_a_new_incident(
    client: TestClient, factory: Factory
) -> None:
    officer, engine = factory.authority(), factory.engine_key()
    first = _report(client, engine, timestamp=_at(0), source_id="cam-01", **HIGH)

    late = _report(client, engine, timestamp=_at(WINDOW_S + 1), source_id="cam-01", **HIGH)
    elsewhere = _report(client, engine, timestamp=_at(1), source_id="cam-02", **HIGH)
    other_engine = _report(client, factory.engine_key(), timestamp=_at(1), source_id="cam-01", **HIGH)

    assert late["grouping"] is None and late["grouped_into"] is None
    assert elsewhere["grouping"] is None and other_engine["grouping"] is None
    resolved = client.post(f"/incidents/{late['incident_id']}/resolve", json={}, headers=officer.headers)
    assert resolved.status_code == 200, resolved.text
    after_close = _report(client, engine, timestamp=_at(WINDOW_S + 5), source_id="cam-01", **HIGH)
    assert after_close["incident_id"] not in (first["incident_id"], late["incident_id"])
    assert client.get("/incidents", headers=officer.headers).json()["total"] == 5


def test_a_retried_grouped_report_returns_its_original_result_and_another_body_is_a_conflict(
    client: TestClient, factory: Factory, db: Database
) -> None:
    engine = factory.engine_key()
    _report(client, engine, timestamp=_at(0), **HIGH)
    body = report_body(timestamp=_at(4))  # escalates to CRITICAL
    original = client.post("/threats/report", json=body, headers=engine.headers)
    queued = _outbox(db)

    retry = client.post("/threats/report", json=body, headers=engine.headers)
    changed = client.post("/threats/report", json={**body, "threat_score": 0.5}, headers=engine.headers)

    assert retry.status_code == 200
    assert retry.json() == original.json()
    assert _outbox(db) == queued
    assert changed.status_code == 409
    assert body["incident_id"] in changed.json()["detail"]
    with db.read_session() as session:
        grouped = sa.select(sa.func.count()).select_from(Incident).where(Incident.grouped_into.is_not(None))
        assert session.scalar(grouped) == 1


def test_evidence_uploaded_under_a_grouped_report_id_is_its_own_and_shown_with_the_open_incident(
    client: TestClient, factory: Factory
) -> None:
    officer, engine = factory.authority(), factory.engine_key()
    first = _report(client, engine, timestamp=_at(0), **HIGH)
    repeat = _report(client, engine, timestamp=_at(2), **HIGH)
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), (10, 200, 30)).save(buffer, format="PNG")

    uploaded = client.post(
        "/upload/screenshot",
        data={"incident_id": repeat["report_id"]},
        files={"file": ("frame.png", buffer.getvalue(), "image/png")},
        headers=engine.headers,
    )

    assert uploaded.status_code == 200, uploaded.text
    assert uploaded.json()["incident_id"] == repeat["incident_id"]
    evidence = client.get(f"/incidents/{first['incident_id']}/evidence", headers=officer.headers).json()
    assert [e["incident_id"] for e in evidence["evidence"]] == [repeat["incident_id"]]
    assert len(_incident(client, officer, first["incident_id"])["evidence"]) == 1
    assert len(_incident(client, officer, repeat["incident_id"])["evidence"]) == 1


@pytest.mark.parametrize("settings_overrides", [{**ONE_CLIENT_UNLIMITED, "grouping_window_s": WINDOW_S}])
def test_first_reports_of_one_source_racing_open_exactly_one_incident(
    live_server: LiveServer, factory: Factory, db: Database
) -> None:
    engine = factory.engine_key()
    bodies = [report_body(timestamp=_at(i), **HIGH) for i in range(CONCURRENT_FIRST_REPORTS)]
    start = threading.Barrier(CONCURRENT_FIRST_REPORTS)

    def send(body: dict[str, Any]) -> httpx.Response:
        with httpx.Client(base_url=live_server.url, headers=engine.headers, timeout=30) as http:
            start.wait()
            return http.post("/threats/report", json=body)

    with ThreadPoolExecutor(max_workers=CONCURRENT_FIRST_REPORTS) as pool:
        responses = list(pool.map(send, bodies))

    assert [r.status_code for r in responses] == [200] * CONCURRENT_FIRST_REPORTS
    assert len({r.json()["incident_id"] for r in responses}) == CONCURRENT_FIRST_REPORTS
    cases = {r.json()["grouped_into"] or r.json()["incident_id"] for r in responses}
    assert len(cases) == 1
    assert sorted(r.json()["grouping"] or "new" for r in responses) == ["attached"] * (
        CONCURRENT_FIRST_REPORTS - 1
    ) + ["new"]
    with db.read_session() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Incident)) == CONCURRENT_FIRST_REPORTS
        incident = session.scalar(sa.select(Incident).where(Incident.incident_id == cases.pop()))
    assert incident is not None and incident.duplicate_count == CONCURRENT_FIRST_REPORTS - 1


def _engine_reports() -> list[dict[str, Any]]:
    """What the public threat_cv engine sends for a camera that sees an armed threat and, a second later,
    a following one: no source_id, naive local times from ``datetime.now().isoformat()``, the weapon
    class once per detection, its whole telemetry."""
    rng = random.Random(14)
    seen = datetime.now()
    reports = []
    for offset, level in enumerate(("CRITICAL", "HIGH")):
        body = threat_cv_incident(
            rng, level=level, at=seen + timedelta(seconds=offset), frame_id=300 + offset
        )
        body["timestamp"] = (seen + timedelta(seconds=offset)).isoformat()
        body["weapon_detected"], body["weapon_types"] = True, ["knife", "knife"]
        reports.append(body)
    return reports


def test_the_engine_s_critical_then_high_are_two_incidents_and_police_are_paged_once(
    client: TestClient, factory: Factory, police: HttpReceiver
) -> None:
    officer, engine = factory.authority(), factory.engine_key()
    critical, high = _engine_reports()

    first = client.post("/threats/report", json=critical, headers=engine.headers).json()
    second = client.post("/threats/report", json=high, headers=engine.headers).json()

    assert (first["incident_id"], second["incident_id"]) == (critical["incident_id"], high["incident_id"])
    assert (first["action_taken"], second["action_taken"]) == ("EMERGENCY_PROTOCOL", "ALERT_POLICE")
    assert (second["grouped"], second["grouped_into"]) == (True, critical["incident_id"])
    case, repeat = (_incident(client, officer, body["incident_id"]) for body in (critical, high))
    assert (case["threat_level"], case["status"], case["grouped_into"]) == (
        "CRITICAL",
        "actions_executed",
        None,
    )
    assert (repeat["threat_level"], repeat["status"]) == ("HIGH", "grouped")
    assert repeat["threat_score"] == high["threat_score"] and repeat["people_count"] == high["people_count"]
    assert repeat["weapon_types"] == ["knife", "knife"] and repeat["full_telemetry"] == high["full_telemetry"]
    assert {a["status"] for a in case["actions"]} == {"executed"}
    assert [(a["action_type"], a["status"]) for a in repeat["actions"]] == [
        ("start_recording", "not_repeated"), ("notify_police", "not_repeated"),
        ("notify_emergency_contacts", "not_repeated"), ("share_live_location", "not_repeated"),
    ]  # fmt: skip
    assert [r["incident_id"] for r in case["grouped_reports"]] == [high["incident_id"]]
    pages = wait_for(lambda: len(police.requests) == 2 and police.requests, what="the CRITICAL pages")
    assert sorted(json.loads(r.body)["alert_type"] for r in pages) == ["armed_threat", "police_dispatch"]
    assert {json.loads(r.body)["incident_id"] for r in pages} == {critical["incident_id"]}
    statistics = client.get("/statistics", headers=officer.headers).json()["statistics"]
    assert (statistics["total_incidents"], statistics["count_CRITICAL"], statistics["count_HIGH"]) == (
        2,
        1,
        1,
    )
    assert (statistics["grouped_reports"], statistics["open_cases"]) == (1, 1)
    high_list = client.get("/incidents/threat_level/HIGH", headers=officer.headers).json()
    assert [i["incident_id"] for i in high_list["incidents"]] == [high["incident_id"]]
    assert len(police.requests) == 2  # nothing more for the HIGH repeat


def test_acknowledging_and_resolving_the_open_incident_covers_its_grouped_reports(
    client: TestClient, factory: Factory
) -> None:
    officer, engine = factory.authority(), factory.engine_key()
    first = _report(client, engine, timestamp=_at(0), **HIGH)
    repeat = _report(client, engine, timestamp=_at(3), **HIGH)

    direct = client.post(f"/incidents/{repeat['incident_id']}/acknowledge", json={}, headers=officer.headers)
    acknowledged = client.post(
        f"/incidents/{first['incident_id']}/acknowledge", json={}, headers=officer.headers
    )
    after_ack = _incident(client, officer, repeat["incident_id"])
    resolved = client.post(f"/incidents/{first['incident_id']}/resolve", json={}, headers=officer.headers)

    assert direct.status_code == 409 and "grouped" in direct.json()["detail"]
    assert acknowledged.status_code == 200 and resolved.status_code == 200
    status = client.get(f"/incidents/{repeat['incident_id']}/timeline", headers=officer.headers).json()
    assert after_ack["status"] == "grouped"
    assert status["status"] == "resolved"
    statistics = client.get("/statistics", headers=officer.headers).json()["statistics"]
    assert (statistics["grouped_reports"], statistics["open_cases"]) == (1, 0)


def test_an_engine_may_name_the_open_incident_it_repeats_but_only_its_own(
    client: TestClient, factory: Factory, db: Database
) -> None:
    engine, other = factory.engine_key(), factory.engine_key()
    first = _report(client, engine, timestamp=_at(0), **HIGH)
    theirs = _report(client, other, timestamp=_at(0), **HIGH)
    before = _outbox(db)

    named = _report(client, engine, timestamp=_at(WINDOW_S * 3), grouped_into=first["incident_id"], **HIGH)
    foreign = client.post("/threats/report", headers=engine.headers,
                          json=report_body(grouped_into=theirs["incident_id"], **HIGH))  # fmt: skip
    claimed = client.post("/threats/report", headers=engine.headers,
                          json=report_body(source_id=other.name, **HIGH))  # fmt: skip

    assert named["grouped_into"] == first["incident_id"]  # named, so outside the window too
    assert foreign.status_code == 422 and foreign.json()["detail"][0]["loc"] == ["body", "grouped_into"]
    assert claimed.status_code == 422 and claimed.json()["detail"][0]["loc"] == ["body", "source_id"]
    with db.read_session() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Incident)) == 3
    assert _outbox(db) == before
