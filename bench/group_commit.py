"""The group-commit reference's writer: one thread per process owns the only connection to SafeSphere's
own database file and commits the queued requests' rows up to ``MAX_BATCH`` requests per transaction;
each request is answered only once its batch's COMMIT returned (WAL, ``synchronous=FULL``, as served).

The database is made by SafeSphere's migrations, with an engine key and a tourist made by its own auth
service (``prepare``), so the rows go into the real tables with their indexes, checks and foreign keys.
"""

from __future__ import annotations

import asyncio
import queue
import sqlite3
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from bench.reference_rows import Ids, Rows
from safesphere.auth import service as auth_service
from safesphere.auth.models import Role
from safesphere.core import migrate
from safesphere.core.config import Settings
from safesphere.core.db import Database

MAX_BATCH = 64
"""Requests per transaction at most: the issue's prototype's figure."""
ENGINE_KEY_NAME = "bench-reference"
TOURIST_EMAIL = "bench-reference@example.com"
TOURIST_PASSWORD = "bench-reference-0123"  # noqa: S105 - a throwaway account on a throwaway database


@dataclass(frozen=True)
class Owners:
    """The rows the reference's requests belong to: the reporting engine key and the moving tourist."""

    engine_key_id: int
    tourist_id: int


def database_path(settings: Settings) -> Path:
    return settings.data_dir / "safesphere.db"


def prepare(settings: Settings) -> None:
    """SafeSphere's database at its latest revision, with the reference's engine key and tourist."""
    migrate.upgrade(settings)
    database = Database(settings)
    try:
        with database.session() as session:
            auth_service.create_engine_key(session=session, name=ENGINE_KEY_NAME)
            auth_service.create_user(
                session=session, email=TOURIST_EMAIL, password=TOURIST_PASSWORD, role=Role.tourist
            )
    finally:
        database.dispose()


@dataclass
class _Pending:
    rows: Rows
    future: asyncio.Future[None]
    loop: asyncio.AbstractEventLoop


class GroupCommitWriter:
    """Queued row-sets, committed by one thread up to ``MAX_BATCH`` per transaction."""

    def __init__(self, path: Path) -> None:
        self._connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        for pragma in ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON", "busy_timeout=5000"):
            self._connection.execute(f"PRAGMA {pragma}")
        self._queue: queue.SimpleQueue[_Pending | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="group-commit", daemon=True)
        self.batches = 0

    def owners(self) -> Owners:
        key = self._connection.execute("SELECT id FROM engine_keys WHERE name = ?", (ENGINE_KEY_NAME,))
        tourist = self._connection.execute("SELECT id FROM users WHERE email = ?", (TOURIST_EMAIL,))
        return Owners(engine_key_id=key.fetchone()[0], tourist_id=tourist.fetchone()[0])

    def next_ids(self) -> Ids:
        def after(table: str) -> int:
            return int(
                self._connection.execute(f"SELECT coalesce(max(id), 0) + 1 FROM {table}").fetchone()[0]  # noqa: S608
            )

        return Ids(
            incident_alert=after("incident_alerts"), delivery=after("deliveries"), fix=after("location_fixes")
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=10)
        self._connection.close()

    async def write(self, rows: Rows) -> None:
        """Queue ``rows`` and return once the transaction holding them committed."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        self._queue.put(_Pending(rows, future, loop))
        await future

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < MAX_BATCH:
                try:
                    pending = self._queue.get_nowait()
                except queue.Empty:
                    break
                if pending is None:
                    self._commit(batch)
                    return
                batch.append(pending)
            self._commit(batch)

    def _commit(self, batch: list[_Pending]) -> None:
        """One transaction for the batch; when a row-set fails it, each is retried alone, so only the
        failing requests fail."""
        try:
            self._transaction(batch)
        except sqlite3.Error:
            for pending in batch:
                try:
                    self._transaction([pending])
                except sqlite3.Error as exc:
                    pending.loop.call_soon_threadsafe(_fail, pending.future, exc)
                else:
                    pending.loop.call_soon_threadsafe(_done, pending.future)
            return
        self.batches += 1
        for pending in batch:
            pending.loop.call_soon_threadsafe(_done, pending.future)

    def _transaction(self, batch: list[_Pending]) -> None:
        self._connection.execute("BEGIN IMMEDIATE")
        try:
            for statement, rows in _merged(pending.rows for pending in batch).items():
                self._connection.executemany(statement, rows)
        except BaseException:
            self._connection.execute("ROLLBACK")
            raise
        self._connection.execute("COMMIT")


def _merged(row_sets: Iterable[Rows]) -> Rows:
    """Every statement's rows of the batch, statements in their first row-set's order."""
    merged: Rows = {}
    for rows in row_sets:
        for statement, values in rows.items():
            merged.setdefault(statement, []).extend(values)
    return merged


def _done(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def _fail(future: asyncio.Future[None], exc: BaseException) -> None:
    if not future.done():
        future.set_exception(exc)
