"""The background passes of two instances on one PostgreSQL database run once per period between them:
escalation pages each round once, rescoring and retention run once per period."""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterator
from datetime import datetime

import httpx
import pytest
import sqlalchemy as sa

from safesphere.core.config import Settings
from safesphere.core.db import Database
from safesphere.incidents.models import IncidentEvent
from safesphere.notify.models import Delivery
from tests.deploy.instances import instance_env
from tests.factories import Factory
from tests.incidents.reports import report_body
from tests.support.live import LiveServer
from tests.support.receivers import HttpReceiver, http_receiver, wait_for

pytestmark = pytest.mark.postgres_only

ROUND_S = 0.5
"""Escalation rounds this far apart, looked for by every instance five times as often."""
ESCALATION = {
    "escalation_after_critical_s": ROUND_S,
    "escalation_poll_interval_s": ROUND_S / 5,
    "escalation_rounds": 3,
}


@pytest.fixture
def police() -> Iterator[HttpReceiver]:
    with http_receiver() as receiver:
        yield receiver


@pytest.fixture
def supervisor() -> Iterator[HttpReceiver]:
    with http_receiver() as receiver:
        yield receiver


@pytest.fixture
def settings_overrides(police: HttpReceiver, supervisor: HttpReceiver) -> dict[str, object]:
    """The test's own app is a third instance with the same channels and rounds (its worker is off)."""
    return {
        **ESCALATION,
        "police_webhook_url": f"{police.url}/dispatch",
        "supervisor_webhook_url": f"{supervisor.url}/escalate",
    }


def _escalation_pages(db: Database) -> list[tuple[str, str]]:
    query = sa.select(Delivery.idempotency_key, Delivery.status).where(Delivery.source_kind == "escalation")
    with db.read_session() as session:
        return [(key, status) for key, status in session.execute(query)]


def test_two_instances_page_each_escalation_round_once(
    settings: Settings, db: Database, factory: Factory, police: HttpReceiver, supervisor: HttpReceiver
) -> None:
    engine = factory.engine_key()
    env = instance_env(police, **ESCALATION, supervisor_webhook_url=f"{supervisor.url}/escalate")
    with LiveServer(settings, extra_env=env) as first, LiveServer(settings, extra_env=env):
        body = report_body()
        reported = httpx.post(f"{first.url}/threats/report", json=body, headers=engine.headers, timeout=10)
        assert reported.status_code == 200, reported.text
        # Rounds 1-3 page the police; rounds 2 and 3 the supervisor too.
        wait_for(
            lambda: (
                (pages := _escalation_pages(db)) and len(pages) == 5 and {s for _, s in pages} == {"sent"}
            ),
            timeout_s=30,
            what="three rounds of escalation pages sent",
        )
        time.sleep(3 * ROUND_S)  # a round paged twice would be queued by now

    with db.read_session() as session:
        escalated = session.scalars(
            sa.select(IncidentEvent.details).where(
                IncidentEvent.incident_id == body["incident_id"], IncidentEvent.kind == "escalated"
            )
        )
        assert sorted(details["round"] for details in escalated) == [1, 2, 3]
    assert len(_escalation_pages(db)) == 5
    paged = {**police.by_webhook_id(), **supervisor.by_webhook_id()}
    escalations = {key: requests for key, requests in paged.items() if key.startswith("escalation:")}
    assert set(escalations) == {key for key, _ in _escalation_pages(db)}
    assert {len(requests) for requests in escalations.values()} == {1}


PERIOD_S = 1
"""The shortest period the settings take (whole seconds)."""
WATCH_S = 5.0


def _runs(servers: list[LiveServer], message: str) -> list[datetime]:
    """When each server logged ``message`` (one JSON log line per pass), all servers together, in order."""
    times = []
    for server in servers:
        assert server.log_path is not None
        for line in server.log_path.read_text().splitlines():
            if line.startswith("{") and message in (entry := json.loads(line))["message"]:
                times.append(datetime.strptime(entry["time"], "%Y-%m-%d %H:%M:%S,%f"))
    return sorted(times)


def test_rescoring_and_retention_run_once_per_period_between_two_instances(
    settings: Settings, police: HttpReceiver
) -> None:
    periods = {"rescore_interval_s": PERIOD_S, "retention_interval_s": PERIOD_S, "log_json": "true"}
    env = instance_env(police, **periods)
    servers = [LiveServer(settings, extra_env=env), LiveServer(settings, extra_env=env)]
    with servers[0], servers[1]:
        time.sleep(WATCH_S)
    for message in ("rescored", "retention purge"):
        runs = _runs(servers, message)
        gaps = [(later - earlier).total_seconds() for earlier, later in itertools.pairwise(runs)]
        span = (runs[-1] - runs[0]).total_seconds()
        # Each period once: no more runs than periods went by (a claimed period may start up to 10%
        # early), never two in one period (a pass's own length moves its log line a little).
        assert len(runs) >= 3, (message, runs)
        assert len(runs) <= span / (0.9 * PERIOD_S) + 1, (message, span, runs)
        assert min(gaps) > PERIOD_S / 2, (message, gaps)
