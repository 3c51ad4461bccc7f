"""The process's writer (``core.writer``) commits units of work in groups, on the real database: waiting
units share one transaction, each is answered only once its batch is durable (visible to another
connection), and a unit that fails rolls back alone without failing its batch."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from safesphere.core.config import Settings
from safesphere.core.db import Database
from safesphere.core.errors import ServiceUnavailable
from safesphere.core.writer import Writer
from tests.support.writer import held

PROBE = sa.table("writer_probe", sa.column("n", sa.Integer), sa.column("unit", sa.Integer))
UNITS = 40


@pytest.fixture
def database(settings: Settings) -> Iterator[Database]:
    db = Database(settings)
    with db.engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE writer_probe (n INTEGER PRIMARY KEY, unit INTEGER NOT NULL)")
    yield db
    db.dispose()


def _insert(*rows: tuple[int, int]) -> Callable[[Session], int]:
    def work(session: Session) -> int:
        for n, unit in rows:
            session.execute(sa.insert(PROBE).values(n=n, unit=unit))
        return len(rows)

    return work


def _stored(db: Database) -> dict[int, int]:
    """What another connection sees committed."""
    with db.read_engine.connect() as connection:
        return {n: unit for n, unit in connection.execute(sa.select(PROBE.c.n, PROBE.c.unit))}


def test_waiting_units_share_one_transaction_and_are_answered_once_durable(database: Database) -> None:
    writer = Writer(database, max_batch=64).start()
    try:
        seen_when_answered: dict[int, bool] = {}

        def check_durable(unit: int) -> Callable[[Future[int]], None]:
            def done(_future: Future[int]) -> None:  # runs as soon as the answer is given
                seen_when_answered[unit] = unit in _stored(database).values()

            return done

        futures = []
        with held(writer):
            for unit in range(UNITS):
                future = writer.submit(_insert((1000 + unit, unit)))
                future.add_done_callback(check_durable(unit))
                futures.append(future)
        assert [future.result(timeout=10) for future in futures] == [1] * UNITS
    finally:
        writer.stop()
    assert writer.batches == 2, "the 40 waiting units are one transaction (after the one that held it)"
    assert writer.units == UNITS + 1
    assert seen_when_answered == {unit: True for unit in range(UNITS)}
    assert len(_stored(database)) == UNITS


def test_a_failing_unit_rolls_back_alone_and_its_batch_commits(database: Database) -> None:
    writer = Writer(database, max_batch=64).start()
    try:
        with held(writer):
            first = writer.submit(_insert((1, 1)))
            # A good row, then a duplicate of unit 1's key: neither may stay.
            duplicate = writer.submit(_insert((2, 2), (1, 2)))
            last = writer.submit(_insert((3, 3)))
            invalid = writer.submit(lambda _session: (_ for _ in ()).throw(ValueError("bad input")))
        assert first.result(timeout=10) == 1 and last.result(timeout=10) == 1
        with pytest.raises(IntegrityError):
            duplicate.result(timeout=10)
        with pytest.raises(ValueError, match="bad input"):
            invalid.result(timeout=10)
    finally:
        writer.stop()
    assert writer.batches == 2
    assert _stored(database) == {1: 1, 3: 3}


def test_units_handed_over_before_stop_are_written_and_later_ones_refused(database: Database) -> None:
    writer = Writer(database, max_batch=4).start()
    with held(writer):
        futures = [writer.submit(_insert((n, n))) for n in range(10)]
    writer.stop()
    assert [future.result(timeout=10) for future in futures] == [1] * 10
    assert writer.batches == 1 + 3, "at most 4 units per transaction"
    with pytest.raises(ServiceUnavailable):
        writer.submit(_insert((99, 99)))
    assert sorted(_stored(database)) == list(range(10))


@pytest.mark.postgres_only
def test_two_instances_batches_that_deadlock_are_run_again_not_failed(settings: Settings) -> None:
    """Two instances' writers whose batches lock the same rows in opposite orders: PostgreSQL aborts one
    side's statement (deadlock detected); that unit is run again alone after its batch, and every unit
    succeeds. (SQLite runs one writer at a time: it cannot deadlock.)"""
    first_db, second_db = Database(settings), Database(settings)
    with first_db.engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE writer_probe (n INTEGER PRIMARY KEY, unit INTEGER NOT NULL)")
        connection.exec_driver_sql("INSERT INTO writer_probe VALUES (1, 0), (2, 0)")
    first, second = Writer(first_db, max_batch=8).start(), Writer(second_db, max_batch=8).start()
    locked = {1: threading.Event(), 2: threading.Event()}

    def lock(row: int, then: int | None, unit: int) -> Callable[[Session], int]:
        def work(session: Session) -> int:
            session.execute(sa.update(PROBE).where(PROBE.c.n == row).values(unit=unit))
            if then is not None:  # both first units hold their row before either second unit asks
                locked[row].set()
                assert locked[then].wait(10)
            return unit

        return work

    try:
        with held(first), held(second):
            futures = [
                first.submit(lock(1, then=2, unit=1)),
                first.submit(lock(2, then=None, unit=2)),
                second.submit(lock(2, then=1, unit=3)),
                second.submit(lock(1, then=None, unit=4)),
            ]
        assert sorted(future.result(timeout=30) for future in futures) == [1, 2, 3, 4]
    finally:
        first.stop()
        second.stop()
        first_db.dispose()
        second_db.dispose()
