"""SQLite writers in one process queue on the writer gate, and every way a write transaction ends gives
the gate back: a commit, a rollback after an error, a session closed without committing. A gate that
leaked would leave the next writer waiting for the whole busy timeout."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from safesphere.auth.models import Role, User
from safesphere.core.db import Database

pytestmark = pytest.mark.sqlite_only

WRITERS = 4
WRITES_EACH = 25
LIVENESS_S = 10.0
"""Far below the 30 s busy timeout a leaked gate would make the next writer wait."""


def _add_user(db: Database, email: str) -> None:
    with db.session() as session:
        session.add(User(email=email, password_hash="x", role=Role.tourist.value))
        session.commit()


def _finishes_in_another_thread(work: Callable[[], None]) -> bool:
    done = threading.Event()

    def run() -> None:
        work()
        done.set()

    threading.Thread(target=run, daemon=True).start()
    return done.wait(LIVENESS_S)


def _users(db: Database) -> int:
    with db.read_session() as session:
        return session.scalar(sa.select(sa.func.count()).select_from(User)) or 0


def test_a_failed_transaction_gives_the_gate_back(db: Database) -> None:
    _add_user(db, "taken@example.com")
    with pytest.raises(IntegrityError), db.session() as session:
        session.add(User(email="taken@example.com", password_hash="x", role=Role.tourist.value))
        session.commit()

    assert _finishes_in_another_thread(lambda: _add_user(db, "next@example.com"))
    assert _users(db) == 2


def test_a_session_closed_without_committing_gives_the_gate_back(db: Database) -> None:
    with db.session() as session:
        session.add(User(email="never@example.com", password_hash="x", role=Role.tourist.value))
        session.flush()  # BEGIN IMMEDIATE ran: the gate and SQLite's lock are held

    assert _finishes_in_another_thread(lambda: _add_user(db, "next@example.com"))
    assert _users(db) == 1


def test_concurrent_writers_all_land(db: Database) -> None:
    def write(n: int) -> None:
        for i in range(WRITES_EACH):
            _add_user(db, f"w{n}-{i}@example.com")

    with ThreadPoolExecutor(max_workers=WRITERS) as pool:
        list(pool.map(write, range(WRITERS)))

    assert _users(db) == WRITERS * WRITES_EACH
