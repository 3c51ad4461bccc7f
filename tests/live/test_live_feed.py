"""The live feed: changes made through the API (in any server process) reach an open stream once, a
reconnect resumes where it left, a full page is caught up, a late commit is still sent."""

from __future__ import annotations

import json
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from fastapi.testclient import TestClient

from safesphere.alerts.models import Alert
from safesphere.core import clock
from safesphere.core.config import Settings
from safesphere.core.db import Database
from safesphere.live.feed import Feed
from tests.factories import Factory
from tests.incidents.reports import report_body
from tests.support.live import LiveServer

WAIT_S = 15.0
"""Far above the server's 1 s poll: a slow machine must not fail the test, a missing event must."""


@dataclass
class Event:
    name: str
    data: dict[str, Any]


class Stream:
    """A client of ``GET /live/events`` reading events as they come."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self.lines = response.iter_lines()
        self.ids: list[str] = []

    def next_event(self) -> Event:
        name, data = "message", ""
        for line in self.lines:
            if line == "":
                if data:
                    return Event(name, json.loads(data))
                continue
            field, _, value = line.partition(": ")
            if field == "event":
                name = value
            elif field == "data":
                data = value
            elif field == "id":
                self.ids.append(value)
        raise AssertionError("the stream ended")

    def wait_for(self, name: str, **expected: Any) -> Event:
        """The first ``name`` event whose data holds ``expected`` (others are skipped)."""
        while True:
            event = self.next_event()
            if event.name == name and all(event.data.get(k) == v for k, v in expected.items()):
                return event


@contextmanager
def live_stream(
    url: str, headers: dict[str, str], *, verify: ssl.SSLContext | bool = True, **params: str
) -> Iterator[Stream]:
    timeout = httpx.Timeout(10.0, read=WAIT_S)
    with (
        httpx.Client(base_url=url, timeout=timeout, verify=verify) as client,
        client.stream("GET", "/live/events", headers=headers, params=params) as response,
    ):
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        stream = Stream(response)
        hello = stream.next_event()
        assert hello.name == "hello" and hello.data["poll_interval_s"] > 0
        yield stream


def test_a_report_and_its_acknowledgement_reach_an_open_stream(
    live_server: LiveServer, factory: Factory
) -> None:
    authority, engine = factory.authority(), factory.engine_key(name="cam-live")
    body = report_body(latitude=48.8566, longitude=2.3522)
    with live_stream(live_server.url, authority.headers) as stream:
        reported = httpx.post(
            f"{live_server.url}/threats/report", json=body, headers=engine.headers, timeout=10
        )
        assert reported.status_code == 200, reported.text

        incident = stream.wait_for("incident", incident_id=body["incident_id"])
        assert incident.data["threat_level"] == "CRITICAL"
        assert incident.data["latitude"] == 48.8566 and incident.data["weapon_detected"] is True
        assert "full_telemetry" not in incident.data and incident.data["updated_at"]
        # The list views' own shapes, updated_at included, so a dashboard merges events into its lists.
        listed = httpx.get(f"{live_server.url}/incidents", headers=authority.headers, timeout=10).json()
        assert set(incident.data) == set(listed["incidents"][0])
        alert = stream.wait_for("alert", incident_id=body["incident_id"])
        assert alert.data["type"] == "incident" and alert.data["severity"] == "critical"
        alerts = httpx.get(f"{live_server.url}/alerts", headers=authority.headers, timeout=10).json()
        assert set(alert.data) == set(alerts[0]) and alert.data["updated_at"]

        acknowledged = httpx.post(
            f"{live_server.url}/incidents/{body['incident_id']}/acknowledge",
            json={},
            headers=authority.headers,
            timeout=10,
        )
        assert acknowledged.status_code == 200, acknowledged.text
        changed = stream.wait_for("incident", incident_id=body["incident_id"], status="acknowledged")
        assert changed.data["updated_at"] > incident.data["updated_at"]
    assert stream.ids, "each batch of events carries an id to resume from"


def test_an_sos_and_its_resolution_reach_an_open_stream(live_server: LiveServer, factory: Factory) -> None:
    authority, tourist = factory.authority(), factory.tourist()
    with live_stream(live_server.url, authority.headers) as stream:
        sos = httpx.post(
            f"{live_server.url}/sos", json={"lat": 41.39, "lon": 2.17}, headers=tourist.headers, timeout=10
        )
        assert sos.status_code == 201, sos.text
        alert = stream.wait_for("alert", type="sos", tourist_id=tourist.user.id)
        assert alert.data["status"] == "open" and alert.data["location"] == {"lat": 41.39, "lon": 2.17}

        resolved = httpx.post(
            f"{live_server.url}/alerts/{alert.data['alert_id']}/resolve",
            json={"notes": "patrol on site"},
            headers=authority.headers,
            timeout=10,
        )
        assert resolved.status_code == 200, resolved.text
        done = stream.wait_for("alert", alert_id=alert.data["alert_id"], status="resolved")
        assert done.data["resolution_notes"] == "patrol on site"


def test_since_replays_the_changes_made_while_disconnected(
    live_server: LiveServer, factory: Factory, client: TestClient
) -> None:
    authority, engine = factory.authority(), factory.engine_key(name="cam-replay")
    before = clock.now().isoformat()
    body = report_body(threat_level="HIGH", is_critical=False)
    assert client.post("/threats/report", json=body, headers=engine.headers).status_code == 200

    with live_stream(live_server.url, authority.headers, since=before) as stream:
        replayed = stream.wait_for("incident", incident_id=body["incident_id"])
    assert replayed.data["threat_level"] == "HIGH"


def test_the_stream_is_for_authorities_and_since_must_be_recent(client: TestClient, factory: Factory) -> None:
    assert client.get("/live/events").status_code == 401
    assert client.get("/live/events", headers=factory.tourist().headers).status_code == 403
    too_old = (clock.now() - timedelta(days=2)).isoformat()
    response = client.get("/live/events", params={"since": too_old}, headers=factory.authority().headers)
    assert response.status_code == 422
    assert response.json()["detail"][0]["msg"] == "since must be within the last 24 hours"
    assert response.json()["detail"][0]["loc"] == ["query", "since"]


def _add_alerts(db: Database, count: int, *, changed_at: Any = None) -> list[int]:
    stamp = changed_at or clock.now()
    with db.session() as session:
        alerts = [
            Alert(
                type="anomaly",
                severity="medium",
                title=f"anomaly {n}",
                description="test",
                latitude=41.0,
                longitude=2.0,
                cell=0,
                occurred_at=stamp,
                updated_at=stamp,
            )
            for n in range(count)
        ]
        session.add_all(alerts)
        session.commit()
        return [alert.id for alert in alerts]


def _poll(db: Database, feed: Feed) -> tuple[list[int], bool]:
    with db.read_session() as session:
        changes, more = feed.poll(session, clock.now())
    sent = [json.loads(change.payload)["alert_id"] for change in changes]
    return sent, more


def test_a_busy_moment_is_caught_up_page_by_page_without_repeats(db: Database, client: TestClient) -> None:
    feed = Feed(since=clock.now() - timedelta(seconds=1), overlap=timedelta(seconds=5), page=3)
    ids = _add_alerts(db, 7)

    pages = [_poll(db, feed) for _ in range(4)]

    assert [more for _, more in pages] == [True, True, False, False]
    assert [alert_id for sent, _ in pages for alert_id in sent] == ids


def test_a_change_committed_after_a_later_poll_is_still_sent_once(db: Database, client: TestClient) -> None:
    overlapping = Feed(since=clock.now(), overlap=timedelta(seconds=5))
    without_overlap = Feed(since=clock.now(), overlap=timedelta(0))
    assert _poll(db, overlapping) == ([], False) and _poll(db, without_overlap) == ([], False)

    # Stamped two seconds ago (before both polls) by a transaction that only committed now.
    late = _add_alerts(db, 1, changed_at=clock.now() - timedelta(seconds=2))

    assert _poll(db, overlapping) == (late, False)
    assert _poll(db, overlapping) == ([], False)
    assert _poll(db, without_overlap) == ([], False)


def test_an_idle_stream_keeps_alive_moves_its_resume_point_and_ends(
    settings: Settings, factory: Factory
) -> None:
    server = LiveServer(
        settings,
        extra_env={
            "SAFESPHERE_LIVE_KEEPALIVE_S": "0.3",
            "SAFESPHERE_LIVE_POLL_INTERVAL_S": "0.1",
            "SAFESPHERE_LIVE_STREAM_S": "2",
        },
    )
    server.start()
    try:
        timeout = httpx.Timeout(10.0, read=WAIT_S)
        with httpx.stream(
            "GET", f"{server.url}/live/events", headers=factory.authority().headers, timeout=timeout
        ) as response:
            lines = list(response.iter_lines())  # returns only because the server ends the stream
    finally:
        server.stop()
    assert lines[0] == "retry: 2000" and lines[1].startswith("id: ") and lines[2] == "event: hello"
    ids = [datetime.fromisoformat(line[4:]) for line in lines if line.startswith("id: ")]
    assert all(line.endswith("Z") for line in lines if line.startswith("id: "))
    assert lines.count(": keep-alive") >= 2 and len(ids) == 1 + lines.count(": keep-alive")
    assert ids == sorted(ids) and ids[-1] > ids[0]
