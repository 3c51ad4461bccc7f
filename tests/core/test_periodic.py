"""Of several processes sharing a database, one runs each period of a periodic task (the background
rescoring): the first whose loop comes round claims it, the others skip it."""

from __future__ import annotations

import itertools
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from fastapi.testclient import TestClient

from safesphere.app import create_app
from safesphere.core import clock
from safesphere.core.config import Settings
from safesphere.core.db import Database
from safesphere.core.periodic import EARLY_SHARE, PeriodicRun, claim_period
from safesphere.tracking.rescoring.service import RESCORING_TASK
from tests.support.receivers import wait_for

START = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
INTERVAL_S = 300.0


def test_a_period_is_claimed_once_and_the_next_one_when_it_comes(settings: Settings) -> None:
    database = Database(settings)
    try:
        with clock.frozen(START) as now:
            assert claim_period(database, "task", INTERVAL_S)  # never ran: run now
            assert not claim_period(database, "task", INTERVAL_S)  # this period is taken
            assert claim_period(database, "other task", INTERVAL_S)  # each task has its own periods
            now.advance(seconds=INTERVAL_S / 2)
            assert not claim_period(database, "task", INTERVAL_S)
            now.advance(seconds=INTERVAL_S * 0.45)  # a loop that came round a little early still runs
            assert claim_period(database, "task", INTERVAL_S)
            assert not claim_period(database, "task", INTERVAL_S)
    finally:
        database.dispose()


def test_of_processes_racing_for_a_period_exactly_one_wins(settings: Settings) -> None:
    databases = [Database(settings) for _ in range(4)]  # four engines, as four processes would have
    try:
        with clock.frozen(START) as now:
            for _ in range(3):  # the first period (the row is made) and two more
                with ThreadPoolExecutor(max_workers=len(databases)) as pool:
                    wins = list(pool.map(lambda db: claim_period(db, "task", INTERVAL_S), databases))
                assert sum(wins) == 1, wins
                now.advance(seconds=INTERVAL_S)
    finally:
        for database in databases:
            database.dispose()


def test_two_servers_on_one_database_take_turns_at_the_background_rescoring(settings: Settings) -> None:
    """Both servers' loops come round every 0.2 s; each period is claimed by one of them, so the task's
    row moves on once per period, never twice in one."""
    fast = settings.model_copy(update={"rescore_interval_s": 0.2})
    first, second = TestClient(create_app(fast)), TestClient(create_app(fast))
    with first, second:
        database: Database = first.app.state.db  # type: ignore[attr-defined]

        def last_run() -> datetime | None:
            with database.read_session() as session:
                run = session.get(PeriodicRun, RESCORING_TASK)
                return run.started_at if run is not None else None

        starts: set[datetime] = set()

        def four_periods_seen() -> bool:
            started = last_run()
            if started is not None:
                starts.add(started)
            return len(starts) >= 4

        wait_for(four_periods_seen, what="four rescoring periods")
    ordered = sorted(starts)
    assert all((b - a).total_seconds() >= 0.2 * (1 - EARLY_SHARE) for a, b in itertools.pairwise(ordered))
