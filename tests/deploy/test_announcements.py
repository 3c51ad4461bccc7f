"""Instances on one PostgreSQL learn of each other's changes at once, through LISTEN/NOTIFY: a zone
created through one is in the other's spatial index, a delivery committed by one wakes the other's
worker, and a listener whose connection was cut reconnects and hears the next change.

Each test gives the polling path a minute, so only an announcement can make it in time."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import httpx
import pytest
import sqlalchemy as sa

from safesphere.core import clock
from safesphere.core.announcements import APPLICATION_NAME
from safesphere.core.config import Settings
from tests.conftest import BACKEND
from tests.factories import Factory
from tests.incidents.reports import report_body
from tests.live.test_live_feed import live_stream
from tests.support.live import LiveServer
from tests.support.receivers import HttpReceiver, http_receiver, wait_for
from tests.tracking.fixtures import SPOT, fix_body

pytestmark = pytest.mark.skipif(BACKEND != "postgres", reason="announcements are PostgreSQL's")

AT_ONCE_S = 1.0
SLOW_POLLING = {
    "SAFESPHERE_LIVE_POLL_INTERVAL_S": "60",
    "SAFESPHERE_ANNOUNCEMENTS_CATCH_UP_S": "60",
    "SAFESPHERE_DELIVERY_POLL_INTERVAL_S": "60",
}


@pytest.fixture
def police() -> Iterator[HttpReceiver]:
    with http_receiver() as receiver:
        yield receiver


def _listeners(settings: Settings) -> set[int]:
    """The backends of the processes' listening connections on this test's database."""
    engine = sa.create_engine(settings.resolved_database_url)
    try:
        with engine.connect() as connection:
            return set(
                connection.scalars(
                    sa.text(
                        "SELECT pid FROM pg_stat_activity "
                        "WHERE application_name = :name AND datname = current_database()"
                    ),
                    {"name": APPLICATION_NAME},
                )
            )
    finally:
        engine.dispose()


def _cut(settings: Settings, backends: set[int]) -> None:
    engine = sa.create_engine(settings.resolved_database_url)
    try:
        with engine.connect() as connection:
            for pid in backends:
                connection.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    finally:
        engine.dispose()


def _all_listening(settings: Settings) -> set[int]:
    """Waits for the three processes' listeners (this test's app and two servers)."""
    return set(
        wait_for(lambda: len(found := _listeners(settings)) >= 3 and found, what="every process listening")
    )


def test_a_zone_created_through_one_instance_is_in_the_others_index_at_once(
    settings: Settings, factory: Factory
) -> None:
    officer, tourist = factory.authority(), factory.tourist()
    with (
        LiveServer(settings, extra_env=SLOW_POLLING) as first,
        LiveServer(settings, extra_env=SLOW_POLLING) as second,
    ):
        _all_listening(settings)
        at = clock.now()
        assert httpx.post(
            f"{second.url}/location/update", json=fix_body(at), headers=tourist.headers
        ).is_success
        risks = httpx.get(f"{second.url}/location/nearby-risks", headers=tourist.headers).json()
        assert risks["nearby_risky_zones"] == []  # the second's index is loaded, without the zone

        zone = {
            "name": "Works",
            "type": "restricted",
            "center": {"lat": SPOT[0], "lon": SPOT[1]},
            "radius_km": 0.3,
        }
        assert httpx.post(f"{first.url}/zones", json=zone, headers=officer.headers).status_code == 201
        risks = httpx.get(f"{second.url}/location/nearby-risks", headers=tourist.headers).json()

    assert [z["name"] for z in risks["nearby_risky_zones"]] == ["Works"]
    assert risks["risk_summary"]["inside_risky_zone"] is True


def test_a_delivery_committed_by_one_instance_wakes_the_others_worker(
    settings: Settings, factory: Factory, police: HttpReceiver
) -> None:
    webhook = {"SAFESPHERE_POLICE_WEBHOOK_URL": f"{police.url}/dispatch"}
    taking = LiveServer(
        settings, extra_env={**SLOW_POLLING, **webhook, "SAFESPHERE_DELIVERY_WORKER_ENABLED": "false"}
    )
    sending = LiveServer(settings, extra_env={**SLOW_POLLING, **webhook})
    engine = factory.engine_key(name="cam-wake")
    with taking, sending:
        _all_listening(settings)
        time.sleep(0.5)  # the sender's worker has had its start-up round and waits for a minute
        body = report_body(latitude=48.8566, longitude=2.3522)
        answer = httpx.post(f"{taking.url}/threats/report", json=body, headers=engine.headers, timeout=10)
        assert answer.status_code == 200, answer.text
        committed = time.monotonic()
        wait_for(lambda: police.requests, timeout_s=10, what="the police page")
        took = time.monotonic() - committed

    assert json.loads(police.requests[0].body)["incident_id"] == body["incident_id"]
    assert took < AT_ONCE_S, f"{took:.2f} s"


def test_a_listener_cut_off_reconnects_and_the_next_change_still_arrives(
    settings: Settings, factory: Factory
) -> None:
    authority, engine = factory.authority(), factory.engine_key(name="cam-reconnect")
    with (
        LiveServer(settings, extra_env=SLOW_POLLING) as first,
        LiveServer(settings, extra_env=SLOW_POLLING) as second,
    ):
        before = _all_listening(settings)
        _cut(settings, before)  # as a database restart would
        wait_for(lambda: len(_listeners(settings) - before) >= 3, what="the listeners back")

        body = report_body(latitude=48.8566, longitude=2.3522)
        with live_stream(second.url, authority.headers) as stream:
            time.sleep(0.2)  # the stream's first look is done; the next comes only when announced
            answer = httpx.post(f"{first.url}/threats/report", json=body, headers=engine.headers, timeout=10)
            committed = time.monotonic()
            assert answer.status_code == 200, answer.text
            stream.wait_for("incident", incident_id=body["incident_id"])
            took = time.monotonic() - committed

    assert took < AT_ONCE_S, f"{took:.2f} s"
