"""On PostgreSQL, instances share queued work instead of waiting on each other's row locks: a delivery
claim, an escalation pass and a period claim pass over the rows another instance holds right now."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from safesphere.core.config import Settings
from safesphere.core.db import Database
from safesphere.core.periodic import PeriodicRun, claim_period
from safesphere.incidents.escalation import escalate_due
from safesphere.incidents.models import Incident
from safesphere.notify.models import Delivery
from safesphere.notify.worker import claim_due
from tests.factories import Factory
from tests.incidents.reports import report_body

pytestmark = pytest.mark.postgres_only

T = TypeVar("T")
PROMPT_S = 5.0
"""A pass that waits on another instance's lock waits until that instance commits: here, never."""


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    # Incidents are overdue at once; the test app's own escalation pass never comes round meanwhile.
    return {"escalation_after_critical_s": 0.001, "escalation_poll_interval_s": 3600}


@contextmanager
def held(settings: Settings, statement: sa.Select[Any]) -> Iterator[None]:
    """Another instance in the middle of its transaction: ``statement`` (FOR UPDATE) holds its rows."""
    engine = sa.create_engine(settings.resolved_database_url)
    try:
        with engine.connect() as connection:
            assert connection.execute(statement.with_for_update()).all()
            yield
            connection.rollback()
    finally:
        engine.dispose()


def promptly(work: Callable[[], T]) -> T:
    """``work()``'s result; fails the test if it is still waiting after ``PROMPT_S``."""
    outcome: list[T] = []
    thread = threading.Thread(target=lambda: outcome.append(work()), daemon=True)
    thread.start()
    thread.join(PROMPT_S)
    assert outcome, f"still waiting on another instance's lock after {PROMPT_S} s"
    return outcome[0]


def _report_two(client: TestClient, factory: Factory) -> tuple[str, str]:
    engine = factory.engine_key()
    ids = []
    for _ in range(2):
        body = report_body()
        assert client.post("/threats/report", json=body, headers=engine.headers).status_code == 200
        ids.append(body["incident_id"])
    return ids[0], ids[1]


def test_a_delivery_claim_passes_over_the_rows_another_instance_is_claiming(
    client: TestClient, factory: Factory, db: Database, settings: Settings
) -> None:
    busy, free = _report_two(client, factory)
    with held(settings, sa.select(Delivery.id).where(Delivery.incident_id == busy)):
        claimed = promptly(lambda: claim_due(db, settings, limit=1000))
    with db.read_session() as session:
        of_free = set(session.scalars(sa.select(Delivery.id).where(Delivery.incident_id == free)))
    assert {item.id for item in claimed} == of_free


def test_an_escalation_pass_takes_the_overdue_incidents_another_pass_does_not_hold(
    client: TestClient, factory: Factory, db: Database, settings: Settings
) -> None:
    busy, free = _report_two(client, factory)
    with held(settings, sa.select(Incident.id).where(Incident.incident_id == busy)):
        assert promptly(lambda: escalate_due(database=db, settings=settings)) == 1
    assert _rounds(db) == {busy: 0, free: 1}
    escalate_due(database=db, settings=settings)
    assert _rounds(db)[busy] == 1  # released: the next pass takes it


def _rounds(db: Database) -> dict[str, int]:
    with db.read_session() as session:
        return {i: r for i, r in session.execute(sa.select(Incident.incident_id, Incident.escalation_round))}


def test_a_period_being_claimed_by_another_instance_is_left_to_it(db: Database, settings: Settings) -> None:
    assert claim_period(db, "task", 0.001)  # the task's row exists from its first run
    with held(settings, sa.select(PeriodicRun.name).where(PeriodicRun.name == "task")):
        assert promptly(lambda: claim_period(db, "task", 0.001)) is False
    assert claim_period(db, "task", 0.001)
