"""SQLite writers of every process queue on one file lock, held exactly from a write transaction's
``BEGIN IMMEDIATE`` to its end, given back on commit, on rollback and when the begin itself fails."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading

import pytest
import sqlalchemy as sa

from safesphere.auth.models import User
from safesphere.core.config import Settings
from safesphere.core.db import Database
from safesphere.core.writelock import lock_path

pytestmark = pytest.mark.sqlite_only

PROBE = """
import fcntl, sys
with open(sys.argv[1], "a") as f:
    try:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        print("held")
    else:
        print("free")
"""


def _lock_file(settings: Settings) -> str:
    return str(lock_path(str(settings.data_dir / "safesphere.db")))


def _seen_by_another_process(settings: Settings) -> str:
    """Whether another process finds the write lock held or free right now."""
    probe = [sys.executable, "-c", PROBE, _lock_file(settings)]
    return subprocess.run(probe, capture_output=True, text=True, check=True).stdout.strip()


def _add_user(session: sa.orm.Session, email: str) -> None:
    session.add(User(email=email, password_hash="!", role="tourist"))
    session.flush()


def test_the_lock_is_held_for_the_write_transaction_only(settings: Settings) -> None:
    database = Database(settings)
    try:
        with database.session() as session:
            assert _seen_by_another_process(settings) == "free"
            _add_user(session, "a@example.com")
            assert _seen_by_another_process(settings) == "held"
            session.commit()
            assert _seen_by_another_process(settings) == "free"
            _add_user(session, "b@example.com")
            assert _seen_by_another_process(settings) == "held"
            session.rollback()
            assert _seen_by_another_process(settings) == "free"
        with database.read_session() as session:
            session.scalar(sa.select(sa.func.count()).select_from(User))
            assert _seen_by_another_process(settings) == "free"  # readers never take it
    finally:
        database.dispose()


def test_a_second_writer_waits_for_the_first_and_then_writes(settings: Settings) -> None:
    first, second = Database(settings), Database(settings)  # two engines: as two processes would
    first_holds, second_done = threading.Event(), threading.Event()

    def write_second() -> None:
        first_holds.wait()
        with second.session() as session:
            _add_user(session, "second@example.com")
            session.commit()
        second_done.set()

    worker = threading.Thread(target=write_second)
    worker.start()
    try:
        with first.session() as session:
            _add_user(session, "first@example.com")
            first_holds.set()
            assert not second_done.wait(0.3)  # queued behind the first writer's lock
            session.commit()
        assert second_done.wait(10)
    finally:
        worker.join(10)
        first.dispose()
        second.dispose()
    with Database(settings).read_session() as session:
        emails = set(session.scalars(sa.select(User.email)))
    assert {"first@example.com", "second@example.com"} <= emails


def test_a_writer_that_waits_past_the_busy_timeout_fails_and_gives_nothing_back_held(
    settings: Settings,
) -> None:
    patient = Database(settings)
    hasty = Database(settings.model_copy(update={"sqlite_busy_timeout_ms": 200}))
    try:
        with patient.session() as session:
            _add_user(session, "patient@example.com")
            with hasty.session() as other, pytest.raises(sa.exc.OperationalError, match="database is locked"):
                _add_user(other, "hasty@example.com")
            session.commit()
        # the failed writer holds nothing: the next write goes through at once
        with hasty.session() as other:
            _add_user(other, "hasty@example.com")
            other.commit()
    finally:
        patient.dispose()
        hasty.dispose()


def test_a_failed_begin_gives_the_lock_back(settings: Settings) -> None:
    """A writer outside SafeSphere (the sqlite3 shell, say) holds SQLite's own lock: our begin fails after
    the busy timeout, and our file lock is free again for the next writer."""
    outsider = sqlite3.connect(settings.data_dir / "safesphere.db", isolation_level=None)
    hasty = Database(settings.model_copy(update={"sqlite_busy_timeout_ms": 100}))
    try:
        outsider.execute("BEGIN IMMEDIATE")
        with hasty.session() as session, pytest.raises(sa.exc.OperationalError, match="locked"):
            _add_user(session, "x@example.com")
        assert _seen_by_another_process(settings) == "free"
        outsider.execute("ROLLBACK")
        with hasty.session() as session:
            _add_user(session, "x@example.com")
            session.commit()
    finally:
        outsider.close()
        hasty.dispose()
