"""The spool file on its own: durable across reopen, one row per incident, screenshots after incidents."""

from __future__ import annotations

import time
from pathlib import Path

from safesphere.client.spool import INCIDENT, SCREENSHOT, Spool


def test_spooled_requests_survive_closing_and_reopening(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool.db")
    assert spool.add_incident("INC_1", b'{"a":1}', due_at=time.time(), error="ConnectError")
    spool.add_screenshot("INC_1", b"\x89PNG", "frame.png", due_at=time.time(), error="waiting")
    spool.close()

    reopened = Spool(tmp_path / "spool.db")
    assert reopened.pending() == 2
    [first] = reopened.due(now=time.time(), limit=10)
    assert (first.kind, first.incident_id, first.body) == (INCIDENT, "INC_1", b'{"a":1}')


def test_an_incident_is_spooled_once_whatever_the_retries(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool.db")
    assert spool.add_incident("INC_1", b"first", due_at=0, error="x")
    assert not spool.add_incident("INC_1", b"second", due_at=0, error="x")
    [request] = spool.due(now=None, limit=10)
    assert request.body == b"first"


def test_a_screenshot_waits_until_its_incident_has_left(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool.db")
    spool.add_screenshot("INC_1", b"img", "a.png", due_at=0, error="waiting")
    spool.add_incident("INC_1", b"{}", due_at=time.time() + 3600, error="x")
    spool.add_screenshot("INC_2", b"img", "b.png", due_at=0, error="x")

    assert [(r.kind, r.incident_id) for r in spool.due(now=time.time(), limit=10)] == [(SCREENSHOT, "INC_2")]
    incident = spool.due(now=None, limit=10)[0]
    assert incident.kind == INCIDENT
    spool.remove(incident.id)
    assert {r.incident_id for r in spool.due(now=time.time(), limit=10)} == {"INC_1", "INC_2"}


def test_postponing_counts_the_attempt_and_expedite_makes_it_due(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool.db")
    spool.add_incident("INC_1", b"{}", due_at=0, error="x")
    [request] = spool.due(now=time.time(), limit=1)
    later = time.time() + 3600
    spool.postpone(request.id, due_at=later, error="HTTP 503")

    assert spool.due(now=time.time(), limit=1) == []
    assert spool.next_due_at() == later
    spool.expedite(now=time.time())
    [again] = spool.due(now=time.time(), limit=1)
    assert again.attempts == 2


def test_a_rejected_request_moves_out_of_the_queue(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool.db")
    spool.add_incident("INC_1", b"{}", due_at=0, error="x")
    [request] = spool.due(now=None, limit=1)

    spool.reject(request, status_code=422, detail="threat_level: invalid")

    assert spool.pending() == 0
    [rejection] = spool.rejections()
    assert (rejection.incident_id, rejection.status_code, rejection.kind) == ("INC_1", 422, INCIDENT)
