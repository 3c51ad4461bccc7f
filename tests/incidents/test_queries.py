"""The police/security views: one incident, lists with filters, by level, and statistics."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from safesphere.core import clock
from safesphere.core.db import Database
from tests.factories import Account, EngineCredentials, Factory
from tests.incidents.reports import report_body
from tests.support.live import ONE_CLIENT_UNLIMITED

DOCUMENTED_FIELDS = {
    "id", "incident_id", "timestamp", "threat_level", "threat_score", "people_count", "weapon_detected",
    "weapon_types", "behavior_summary", "is_critical", "status", "action_taken", "response_time_ms",
    "created_at", "updated_at",
}  # fmt: skip


LIST_ITEM_FIELDS = {
    "incident_id", "timestamp", "threat_level", "threat_score", "people_count", "weapon_detected",
    "is_critical", "status", "action_taken", "latitude", "longitude", "source_id", "created_at",
    "duplicate_count", "grouped_into", "last_reported_at", "updated_at",
}  # fmt: skip
"""An incident in ``GET /incidents`` (and, the same shape, an ``incident`` event of the live feed)."""
REPORTED_AT = datetime(2026, 2, 10, 14, 31, tzinfo=UTC)


def _utc(text: str) -> datetime:
    parsed = datetime.fromisoformat(text)
    assert parsed.utcoffset() is not None and parsed.utcoffset().total_seconds() == 0, text  # type: ignore[union-attr]
    return parsed


def _report(client: TestClient, engine: EngineCredentials, **overrides: Any) -> dict[str, Any]:
    body = report_body(**overrides)
    response = client.post("/threats/report", json=body, headers=engine.headers)
    assert response.status_code == 200, response.text
    return body


@pytest.fixture
def authority(factory: Factory) -> Account:
    return factory.authority()


@pytest.fixture
def engine(factory: Factory) -> EngineCredentials:
    return factory.engine_key(name="cam-01")


def test_an_incident_reads_back_with_every_documented_field(
    client: TestClient, authority: Account, engine: EngineCredentials
) -> None:
    body = _report(client, engine, weapon_types=["gun", "gun"], latitude=48.8584, longitude=2.2945)
    response = client.get(f"/incidents/{body['incident_id']}", headers=authority.headers)

    assert response.status_code == 200, response.text
    incident = response.json()
    assert set(incident) >= DOCUMENTED_FIELDS
    assert incident["weapon_types"] == ["gun", "gun"]
    for field in ("threat_level", "threat_score", "people_count", "weapon_detected", "behavior_summary"):
        assert incident[field] == body[field]
    assert incident["status"] == "actions_executed"
    assert incident["action_taken"] == "EMERGENCY_PROTOCOL"
    assert incident["response_time_ms"] is None  # until the police have been notified (tests/notify)
    assert _utc(incident["timestamp"]).isoformat() == "2026-02-10T14:30:45.123000+00:00"
    for field in ("created_at", "updated_at"):
        _utc(incident[field])
    assert incident["full_telemetry"] == body["full_telemetry"]
    assert incident["location"] == {
        "latitude": 48.8584,
        "longitude": 2.2945,
        "accuracy_m": None,
        "source": "report",
        "fix_age_s": None,
    }
    assert incident["location_source"] == "report"
    assert incident["source_id"] == "cam-01"
    assert [a["action_type"] for a in incident["actions"]][-1] == "armed_threat_escalation"
    assert all(_utc(a["executed_at"]) for a in incident["actions"])
    assert len(incident["alerts"]) == 5
    # A camera without an owner: police are paged; there is no user or contact to tell (tests/notify).
    assert {(a["recipient"], a["status"]) for a in incident["alerts"]} == {
        ("police_dispatch", "pending"),
        ("emergency_contacts", "no_recipients"),
        ("user", "no_recipients"),
    }
    assert incident["evidence"] == []


def test_an_unknown_incident_is_404(client: TestClient, authority: Account) -> None:
    response = client.get("/incidents/INC_NOPE", headers=authority.headers)
    assert response.status_code == 404
    assert response.json() == {"detail": "Incident not found"}


def test_the_list_is_newest_first_and_pages(
    client: TestClient, authority: Account, engine: EngineCredentials
) -> None:
    made = [
        _report(client, engine, timestamp=f"2026-02-10T14:3{minute}:00Z", threat_level=level)
        for minute, level in enumerate(["LOW", "HIGH", "CRITICAL", "HIGH", "MEDIUM"])
    ]
    newest_first = [body["incident_id"] for body in reversed(made)]

    everything = client.get("/incidents", headers=authority.headers).json()
    assert everything["count"] == everything["total"] == 5
    assert [i["incident_id"] for i in everything["incidents"]] == newest_first
    first = everything["incidents"][0]
    assert {"incident_id", "threat_level", "threat_score", "created_at"} <= set(first)
    assert "full_telemetry" not in first

    page = client.get("/incidents?limit=2&offset=1", headers=authority.headers).json()
    assert (page["count"], page["total"], page["limit"], page["offset"]) == (2, 5, 2, 1)
    assert [i["incident_id"] for i in page["incidents"]] == newest_first[1:3]


def test_a_list_item_carries_updated_at_which_every_change_moves_on(
    client: TestClient, authority: Account, engine: EngineCredentials
) -> None:
    """A dashboard merging a list with live events keeps the copy with the later updated_at."""

    def listed(path: str) -> dict[str, Any]:
        response = client.get(path, headers=authority.headers)
        assert response.status_code == 200, response.text
        [item] = response.json()["incidents"]
        return item  # type: ignore[no-any-return]

    with clock.frozen(REPORTED_AT) as frozen:
        body = _report(client, engine, threat_level="HIGH", is_critical=False)
        reported = listed("/incidents")
        assert set(reported) == LIST_ITEM_FIELDS
        assert _utc(reported["updated_at"]) == REPORTED_AT
        detail = client.get(f"/incidents/{body['incident_id']}", headers=authority.headers).json()
        assert _utc(detail["updated_at"]) == REPORTED_AT

        frozen.advance(seconds=30)
        path = f"/incidents/{body['incident_id']}/acknowledge"
        assert client.post(path, json={}, headers=authority.headers).status_code == 200
    acknowledged = listed("/incidents")
    assert acknowledged["status"] == "acknowledged"
    assert _utc(acknowledged["updated_at"]) == REPORTED_AT + timedelta(seconds=30)
    assert listed("/incidents/threat_level/HIGH") == acknowledged


def test_the_list_filters_by_level_status_and_time(
    client: TestClient, authority: Account, engine: EngineCredentials
) -> None:
    low = _report(client, engine, timestamp="2026-02-10T10:00:00Z", threat_level="LOW")
    high_early = _report(client, engine, timestamp="2026-02-10T11:00:00Z", threat_level="HIGH")
    high_late = _report(client, engine, timestamp="2026-02-10T12:00:00Z", threat_level="HIGH")

    def ids(query: str) -> list[str]:
        response = client.get(f"/incidents?{query}", headers=authority.headers)
        assert response.status_code == 200, response.text
        return [i["incident_id"] for i in response.json()["incidents"]]

    assert ids("threat_level=HIGH") == [high_late["incident_id"], high_early["incident_id"]]
    assert ids("threat_level=CRITICAL") == []
    assert len(ids("status=actions_executed")) == 3
    assert ids("status=resolved") == []
    assert ids("since=2026-02-10T11:00:00Z") == [high_late["incident_id"], high_early["incident_id"]]
    assert ids("until=2026-02-10T11:00:00Z") == [low["incident_id"]]
    assert ids("since=2026-02-10T10:30:00%2B00:00&until=2026-02-10T11:30:00Z") == [high_early["incident_id"]]
    assert ids("threat_level=HIGH&since=2026-02-10T11:30:00Z") == [high_late["incident_id"]]


@pytest.mark.parametrize("settings_overrides", [{"default_timezone": "Europe/Paris"}])
def test_naive_list_bounds_are_read_in_the_default_time_zone(
    client: TestClient, authority: Account, engine: EngineCredentials
) -> None:
    body = _report(client, engine, timestamp="2026-02-10T11:00:00Z")
    inside = client.get("/incidents?since=2026-02-10T12:00:00", headers=authority.headers).json()
    after = client.get("/incidents?since=2026-02-10T12:00:01", headers=authority.headers).json()
    assert [i["incident_id"] for i in inside["incidents"]] == [body["incident_id"]]
    assert after["incidents"] == []


@pytest.mark.parametrize("settings_overrides", [ONE_CLIENT_UNLIMITED])
def test_the_default_page_is_one_hundred(
    client: TestClient, authority: Account, engine: EngineCredentials
) -> None:
    for _ in range(101):
        _report(client, engine, threat_level="LOW")
    listed = client.get("/incidents", headers=authority.headers).json()
    assert (listed["count"], listed["total"], listed["limit"]) == (100, 101, 100)
    by_level = client.get("/incidents/threat_level/LOW", headers=authority.headers).json()
    assert by_level["count"] == 100
    assert len(client.get("/incidents?limit=1000", headers=authority.headers).json()["incidents"]) == 101


def test_incidents_by_threat_level(client: TestClient, authority: Account, engine: EngineCredentials) -> None:
    critical = [
        _report(client, engine, threat_level="CRITICAL", timestamp=f"2026-02-10T1{h}:00:00Z") for h in (1, 2)
    ]
    _report(client, engine, threat_level="LOW")

    response = client.get("/incidents/threat_level/CRITICAL?limit=100", headers=authority.headers)
    assert response.status_code == 200
    body = response.json()
    assert body["threat_level"] == "CRITICAL"
    assert body["count"] == 2
    assert [i["incident_id"] for i in body["incidents"]] == [b["incident_id"] for b in reversed(critical)]
    one = client.get("/incidents/threat_level/CRITICAL?limit=1", headers=authority.headers).json()
    assert one["count"] == 1


@pytest.mark.parametrize("level", ["SEVERE", "critical", "1"])
def test_an_invalid_level_is_a_422_listing_the_valid_ones(
    client: TestClient, authority: Account, level: str
) -> None:
    response = client.get(f"/incidents/threat_level/{level}", headers=authority.headers)
    assert response.status_code == 422
    error = response.json()["detail"][0]
    assert error["loc"] == ["path", "level"]
    for valid in ("LOW", "MEDIUM", "HIGH", "CRITICAL"):
        assert valid in error["msg"]


@contextmanager
def _statements(db: Database) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    sa.event.listen(db.read_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(db.read_engine, "before_cursor_execute", record)


@pytest.mark.parametrize("settings_overrides", [{"escalation_poll_interval_s": 3600}])
def test_statistics_count_with_one_aggregate_query(
    client: TestClient, authority: Account, engine: EngineCredentials, db: Database
) -> None:
    """(The escalation pass is held off: on PostgreSQL reads and writes share one engine, and its poll
    would land in the count.)"""
    empty = client.get("/statistics", headers=authority.headers).json()
    assert empty["statistics"] == {
        "total_incidents": 0, "count_LOW": 0, "count_MEDIUM": 0, "count_HIGH": 0, "count_CRITICAL": 0,
        "weapons_detected": 0, "critical_incidents": 0, "grouped_reports": 0, "open_cases": 0,
    }  # fmt: skip
    for level, weapon, critical in [
        ("LOW", False, False), ("LOW", False, False), ("MEDIUM", False, False),
        ("HIGH", True, False), ("CRITICAL", True, True), ("CRITICAL", False, True), ("HIGH", False, True),
    ]:  # fmt: skip
        _report(client, engine, threat_level=level, weapon_detected=weapon, is_critical=critical)

    with _statements(db) as statements:
        response = client.get("/statistics", headers=authority.headers)
    assert response.status_code == 200
    body = response.json()
    _utc(body["timestamp"])
    assert body["statistics"] == {
        "total_incidents": 7, "count_LOW": 2, "count_MEDIUM": 1, "count_HIGH": 2, "count_CRITICAL": 2,
        "weapons_detected": 2, "critical_incidents": 3, "grouped_reports": 0, "open_cases": 7,
    }  # fmt: skip
    on_incidents = [s for s in statements if "FROM incidents" in s]
    counts = [s for s in on_incidents if "response_time_ms" not in s and "time_to_acknowledge_ms" not in s]
    assert len(counts) == 1  # the counts: one aggregate; the rest are the response analytics' percentiles
    assert "count(" in counts[0].lower() and "incidents.full_telemetry" not in counts[0]
    assert all("full_telemetry" not in s for s in on_incidents)
    assert len(on_incidents) == 5  # counts, then a count and at most one row per percentile
    assert body["response_analytics"]["time_to_notify_p50_ms"] is None  # nothing delivered here
