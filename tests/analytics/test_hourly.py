"""``GET /statistics/hourly`` against a known night: incidents reported, paged, acknowledged and failed
through the real routes and the worker's own record of attempts, at times set by the injectable clock."""

from __future__ import annotations

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
from tests.factories import Account, EngineCredentials, Factory
from tests.incidents.reports import report_body

T0 = datetime(2026, 3, 14, 8, 0, tzinfo=UTC)
"""The first hour of the window the test reads."""


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    # One failed attempt is a failed delivery; tokens outlast the night the clock runs through.
    # No escalation pages: the test decides every message (its clock jumps hours).
    # A repeat of one camera within two minutes is grouped into its open incident.
    return {"delivery_max_attempts": 1, "access_token_ttl_s": 86400, "escalation_rounds": 0,
            "grouping_window_s": 120}  # fmt: skip


@pytest.fixture
def frozen() -> Iterator[clock.FrozenClock]:
    with clock.frozen(T0 - timedelta(hours=2)) as moving:
        yield moving


def _report(client: TestClient, factory: Factory, level: str, *, weapon: bool = False,
            engine: EngineCredentials | None = None) -> dict[str, Any]:  # fmt: skip
    body = report_body(
        threat_level=level, is_critical=level == "CRITICAL", weapon_detected=weapon,
        weapon_types=["gun"] if weapon else [], timestamp=clock.now().isoformat(),
    )  # fmt: skip
    response = client.post("/threats/report", json=body, headers=(engine or factory.engine_key()).headers)
    assert response.status_code == 200, response.text
    return {**response.json(), "incident_id": body["incident_id"]}


def _send_due(db: Database, settings: Settings, *, ok: bool) -> int:
    """The worker's round, its receivers answering ``ok``: every due delivery claimed and recorded now."""
    claimed = claim_due(db, settings, limit=1000)
    result = SendResult(ok=True) if ok else SendResult(ok=False, error="HTTP 503")
    record_attempts(db, settings, [Attempt(c, result, clock.now(), clock.now(), 1.0) for c in claimed])
    return len(claimed)


def _acknowledge(client: TestClient, officer: Account, incident_id: str) -> None:
    response = client.post(f"/incidents/{incident_id}/acknowledge", headers=officer.headers)
    assert response.status_code == 200, response.text


def _night(client: TestClient, factory: Factory, db: Database, settings: Settings,
           moving: clock.FrozenClock) -> tuple[Account, dict[str, int]]:  # fmt: skip
    """Four hours from T0 and one report on each side of them; returns the officer and how many
    deliveries were sent and failed in hours 0 and 1."""
    officer = factory.authority()
    _report(client, factory, "CRITICAL", weapon=True)  # two hours before the window
    _send_due(db, settings, ok=True)
    sent: dict[str, int] = {}

    moving.set(T0 + timedelta(minutes=5))
    _report(client, factory, "LOW")
    moving.set(T0 + timedelta(minutes=10))
    high = _report(client, factory, "HIGH")["incident_id"]
    moving.advance(seconds=3)
    sent["hour0"] = _send_due(db, settings, ok=True)  # notified in 3 s
    moving.advance(seconds=57)
    _acknowledge(client, officer, high)  # acknowledged 60 s after the report

    moving.set(T0 + timedelta(minutes=70))
    camera = factory.engine_key()
    critical = _report(client, factory, "CRITICAL", weapon=True, engine=camera)["incident_id"]
    moving.advance(seconds=1)
    sent["hour1"] = _send_due(db, settings, ok=True)  # 1 s
    moving.advance(seconds=29)
    _acknowledge(client, officer, critical)  # 30 s
    moving.advance(seconds=10)
    repeat = _report(client, factory, "CRITICAL", weapon=True, engine=camera)
    assert repeat["grouped_into"] == critical, "the camera's repeat is part of the case, not another one"
    moving.set(T0 + timedelta(minutes=80))
    _report(client, factory, "HIGH")
    moving.advance(seconds=5)
    sent["failed1"] = _send_due(db, settings, ok=False)  # the first attempt to police ended after 5 s

    moving.set(T0 + timedelta(hours=3, minutes=15))
    _report(client, factory, "MEDIUM")
    moving.set(T0 + timedelta(hours=4))
    _report(client, factory, "CRITICAL")  # the first moment after the window
    return officer, sent


def _empty_levels(**counts: int) -> dict[str, int]:
    return {"LOW": 0, "MEDIUM": 0, "HIGH": 0, "CRITICAL": 0, **counts}


def _deliveries(**counts: int) -> dict[str, int]:
    return {"pending": 0, "sending": 0, "sent": 0, "failed": 0, "cancelled": 0, **counts}


def test_each_hour_counts_incidents_by_level_and_times_notify_acknowledge_and_failures(
    client: TestClient, factory: Factory, db: Database, settings: Settings, frozen: clock.FrozenClock
) -> None:
    officer, sent = _night(client, factory, db, settings, frozen)
    assert sent["hour0"] >= 1 and sent["hour1"] >= 2 and sent["failed1"] >= 1, sent
    window = {"since": T0.isoformat(), "until": (T0 + timedelta(hours=4)).isoformat()}

    response = client.get("/statistics/hourly", params=window, headers=officer.headers)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["bucket_s"] == 3600
    assert _at(body["since"]) == T0 and _at(body["until"]) == T0 + timedelta(hours=4)
    hours = body["hours"]
    assert [_at(h["start"]) for h in hours] == [T0 + timedelta(hours=n) for n in range(4)]
    assert [h["incidents"] for h in hours] == [
        _empty_levels(LOW=1, HIGH=1),
        _empty_levels(HIGH=1, CRITICAL=1),
        _empty_levels(),
        _empty_levels(MEDIUM=1),
    ]
    notify = [(h["time_to_notify_mean_ms"], h["time_to_notify_max_ms"], h["notified"]) for h in hours]
    assert notify == [(3000, 3000, 1), (3000, 5000, 2), (None, None, 0), (None, None, 0)]
    acknowledge = [
        (h["time_to_acknowledge_mean_ms"], h["time_to_acknowledge_max_ms"], h["acknowledged"]) for h in hours
    ]
    assert acknowledge == [(60000, 60000, 1), (30000, 30000, 1), (None, None, 0), (None, None, 0)]
    assert [h["deliveries"] for h in hours] == [
        _deliveries(sent=sent["hour0"]),
        _deliveries(sent=sent["hour1"], failed=sent["failed1"]),
        _deliveries(),
        _deliveries(pending=_pending(client, officer, T0 + timedelta(hours=3))),
    ]


def _pending(client: TestClient, officer: Account, start: datetime) -> int:
    """Messages queued in the hour from ``start`` (the MEDIUM report's, if its protocol sends any)."""
    params = {"since": start.isoformat(), "until": (start + timedelta(hours=1)).isoformat()}
    page = client.get("/deliveries", params=params, headers=officer.headers).json()
    assert page["counts"]["pending"] == page["total"]
    return int(page["total"])


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_by_default_the_last_24_hours_up_to_the_current_one(
    client: TestClient, factory: Factory, frozen: clock.FrozenClock
) -> None:
    officer = factory.authority()
    frozen.set(T0 + timedelta(minutes=20))
    _report(client, factory, "HIGH")

    body = client.get("/statistics/hourly", headers=officer.headers).json()

    assert len(body["hours"]) == 24
    assert _at(body["until"]) == T0 + timedelta(hours=1) and _at(body["since"]) == T0 - timedelta(hours=23)
    assert body["hours"][-1]["incidents"]["HIGH"] == 1
    assert sum(sum(h["incidents"].values()) for h in body["hours"]) == 1


BAD_RANGES: list[tuple[dict[str, Any], str]] = [
    ({"since": "2026-03-14T10:00:00Z", "until": "2026-03-14T09:00:00Z"}, "until"),
    ({"since": "2026-03-14T10:00:00Z", "until": "2026-03-14T10:00:00Z"}, "until"),
    ({"since": "2026-03-01T00:00:00Z", "until": "2026-03-14T00:00:00Z"}, "since"),
    ({"since": "yesterday"}, "since"),
    ({"until": "0001-01-01T00:00:00Z"}, "until"),
]


def test_a_bad_range_is_a_422_naming_the_field(client: TestClient, factory: Factory) -> None:
    officer = factory.authority()
    for params, field in BAD_RANGES:
        response = client.get("/statistics/hourly", params=params, headers=officer.headers)
        assert response.status_code == 422, (params, response.text)
        assert response.json()["detail"][0]["loc"] == ["query", field], params


def test_only_authorities_read_it(client: TestClient, factory: Factory) -> None:
    assert client.get("/statistics/hourly").status_code == 401
    assert client.get("/statistics/hourly", headers=factory.tourist().headers).status_code == 403
