"""Two instances on one PostgreSQL database share the work and the truth: reports split and retried across
them page the police once each, a ``kill -9`` of one loses no acknowledged report and no page, and what
one instance changes (zones, keys) the other acts on at once."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
import sqlalchemy as sa

from safesphere.core.config import Settings
from safesphere.core.db import Database
from safesphere.incidents.models import Incident
from safesphere.notify.models import Delivery
from tests.deploy.instances import instance_env, post_reports
from tests.factories import Factory
from tests.incidents.reports import report_body
from tests.notify.conftest import POLICE_SECRET
from tests.support.live import ONE_CLIENT_UNLIMITED, LiveServer
from tests.support.receivers import HttpReceiver, http_receiver, signature_is_valid, wait_for
from tests.tracking.fixtures import SPOT, fix_body

pytestmark = pytest.mark.postgres_only

REPORTS = 1000
"""Issue 18's figure; both instances, PostgreSQL and the load generator share the machine's 2 cores. The
test took 56-92 s on 2 cores that other test runs loaded 2.5-9 times over (the 2,000 requests about 45 s
of it); unshared it should take about half, so the full figure is kept rather than a smaller one."""
CONCURRENCY = 32
"""Requests in flight at once: 16 an instance, under its admission limit (64), so none is turned away."""
QUIET = {"escalation_after_critical_s": 3600}
"""No escalation pages while these tests run: each report pages the police once."""
ONE_CAMERA_FLEET = {**QUIET, **ONE_CLIENT_UNLIMITED}
"""The 1,000 reports share one engine key: its own fair share (tests/core/test_admission.py) is lifted."""


@pytest.fixture
def police() -> Iterator[HttpReceiver]:
    with http_receiver() as receiver:
        yield receiver


def _police_pages(db: Database) -> list[tuple[str | None, str, str]]:
    """(incident id, idempotency key, status) of every police delivery."""
    query = sa.select(Delivery.incident_id, Delivery.idempotency_key, Delivery.status).where(
        Delivery.audience == "police"
    )
    with db.read_session() as session:
        return [(row[0], row[1], row[2]) for row in session.execute(query)]


def _incident_ids(db: Database) -> set[str]:
    with db.read_session() as session:
        return set(session.scalars(sa.select(Incident.incident_id)))


def _sending(db: Database) -> set[int]:
    """The deliveries claimed and not finished: a live instance's in flight, a dead one's orphaned."""
    with db.read_session() as session:
        return set(session.scalars(sa.select(Delivery.id).where(Delivery.status == "sending")))


def _last_sent(db: Database, ids: set[int]) -> datetime:
    with db.read_session() as session:
        last = session.scalar(sa.select(sa.func.max(Delivery.sent_at)).where(Delivery.id.in_(ids)))
    assert last is not None
    return last


def _all_sent(db: Database, incident_ids: set[str]) -> bool:
    """Every incident of ``incident_ids`` has its police pages (a CRITICAL protocol has two), all sent."""
    pages = _police_pages(db)
    paged = {incident_id for incident_id, _, _ in pages}
    return paged == incident_ids and all(status == "sent" for _, _, status in pages)


def test_reports_split_and_retried_across_instances_make_one_incident_and_one_page_each(
    settings: Settings, db: Database, factory: Factory, police: HttpReceiver
) -> None:
    """Each report goes to one instance and, at the same moment, its retry to the other: the two race
    to store the same incident id."""
    engine = factory.engine_key()
    env = instance_env(police, **ONE_CAMERA_FLEET)
    with LiveServer(settings, extra_env=env) as first, LiveServer(settings, extra_env=env) as second:
        plan = []
        for number in range(REPORTS):
            body = report_body()
            one, other = (first.url, second.url) if number % 2 else (second.url, first.url)
            plan += [(one, body), (other, body)]
        began = time.monotonic()
        answers = asyncio.run(post_reports(plan, engine.headers, concurrency=CONCURRENCY))
        took = time.monotonic() - began

        assert [a for a in answers if a != 200] == [], f"{len(answers)} requests in {took:.1f} s"
        reported = {body["incident_id"] for _, body in plan}
        assert _incident_ids(db) == reported
        wait_for(lambda: _all_sent(db, reported), timeout_s=60, what="every police page sent")

    received = police.by_webhook_id()
    assert set(received) == {key for _, key, _ in _police_pages(db)}
    assert {len(requests) for requests in received.values()} == {1}
    assert all(signature_is_valid(requests[0], POLICE_SECRET) for requests in received.values())


KILL_REPORTS = 300
KILL_AFTER = 100
"""The first instance is killed once this many reports are answered, with pages in flight."""
SEND_TIMEOUT_S = 1.0
"""The instances' send timeout: a page a dead instance held is sent again soon after it."""


def test_a_killed_instance_loses_no_acknowledged_report_and_the_survivor_sends_its_pages(
    settings: Settings, db: Database, factory: Factory
) -> None:
    engine = factory.engine_key()
    # A slow dispatch system: the killed instance dies holding claimed pages it has not sent.
    with http_receiver(delay_s=0.2) as police:
        env = instance_env(police, delivery_timeout_s=SEND_TIMEOUT_S, **ONE_CAMERA_FLEET)
        with LiveServer(settings, extra_env=env) as first, LiveServer(settings, extra_env=env) as second:
            plan = [(first.url if n % 2 else second.url, report_body()) for n in range(KILL_REPORTS)]
            in_flight: set[int] = set()

            async def kill_midway(count: int) -> None:
                if count == KILL_AFTER:
                    await asyncio.to_thread(first.kill)
                    in_flight.update(await asyncio.to_thread(_sending, db))
                    killed_at.append(datetime.now(UTC))

            killed_at: list[datetime] = []
            answers = asyncio.run(post_reports(plan, engine.headers, concurrency=16, answered=kill_midway))
            acknowledged = {
                body["incident_id"] for (_, body), a in zip(plan, answers, strict=True) if a == 200
            }
            to_survivor = [a for (url, _), a in zip(plan, answers, strict=True) if url == second.url]

            assert to_survivor == [200] * len(to_survivor)
            assert len(acknowledged) > KILL_REPORTS / 2
            stored = _incident_ids(db)
            assert acknowledged <= stored
            assert in_flight, "no page was in flight when the instance was killed"
            wait_for(lambda: not in_flight & _sending(db), timeout_s=30, what="the dead instance's pages")
            recovered_in = (_last_sent(db, in_flight) - killed_at[0]).total_seconds()
            wait_for(lambda: _all_sent(db, stored), timeout_s=30, what="every page sent by the survivor")

    pages = _police_pages(db)
    assert {incident_id for incident_id, _, _ in pages} == stored
    received = police.by_webhook_id()
    # Every page arrived; one the dead instance sent without recording it came again, under the same key.
    assert set(received) == {key for _, key, _ in pages}
    # Its lease (the send timeout and 5 s) ran out, not the 60 s one: the survivor sent them soon.
    assert recovered_in < 20, f"pages of the dead instance waited {recovered_in:.1f} s"


def test_a_zone_and_a_key_revocation_made_through_one_instance_hold_at_once_on_the_other(
    settings: Settings, factory: Factory, police: HttpReceiver
) -> None:
    admin, tourist = factory.admin(), factory.tourist()
    engine = factory.engine_key()
    env = instance_env(police, **QUIET)
    with LiveServer(settings, extra_env=env) as first, LiveServer(settings, extra_env=env) as second:

        def score_on_second() -> float:
            fix = fix_body(datetime.now(UTC))
            answer = httpx.post(
                f"{second.url}/location/update", json=fix, headers=tourist.headers, timeout=10
            )
            assert answer.status_code == 200, answer.text
            return float(answer.json()["location_safety_score"])

        before = score_on_second()
        zone = {"name": "Construction Site", "type": "restricted", "center": {"lat": SPOT[0], "lon": SPOT[1]},
                "radius_km": 0.5}  # fmt: skip
        created = httpx.post(f"{first.url}/zones", json=zone, headers=admin.headers, timeout=10)
        assert created.status_code == 201, created.text
        assert score_on_second() < before

        report = f"{second.url}/threats/report"
        assert httpx.post(report, json=report_body(), headers=engine.headers, timeout=10).status_code == 200
        revoked = httpx.delete(f"{first.url}/admin/keys/{engine.name}", headers=admin.headers, timeout=10)
        assert revoked.status_code == 200, revoked.text
        refused = httpx.post(report, json=report_body(), headers=engine.headers, timeout=10)
        assert refused.status_code == 401, refused.text
