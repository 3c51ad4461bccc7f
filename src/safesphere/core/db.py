"""The database: engines, sessions and the column types every domain shares.

SQLite (the embedded default) runs in WAL mode with a busy timeout, and write sessions open
with ``BEGIN IMMEDIATE`` so two writers queue for the lock instead of one failing with
"database is locked" when it upgrades a read lock. Read sessions use deferred transactions and
never block in WAL mode. On PostgreSQL both session kinds share one engine.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from safesphere.core import encryption, jsoncodec
from safesphere.core.config import Settings
from safesphere.core.files import create_private_file, make_private_dir
from safesphere.core.writelock import LockingConnection, WriteLock, lock_path
from safesphere.geo import grid_cell

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(sa.TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on every backend (SQLite keeps no zone)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class epoch_us(sa.sql.functions.GenericFunction[int]):
    """A ``UTCDateTime`` column as exact integer microseconds since 1970-01-01 UTC, computed by the
    database: a row read this way costs no ``datetime`` in Python (``core.clock.microseconds``
    gives the same integer for a Python datetime)."""

    type = sa.BigInteger()
    inherit_cache = True


@compiles(epoch_us, "sqlite")
def _epoch_us_sqlite(element: epoch_us, compiler: Any, **kw: Any) -> str:
    # UTCDateTime is stored as 'YYYY-MM-DD HH:MM:SS.ffffff' (UTC): whole seconds, then the 6 digits.
    column = compiler.process(element.clauses, **kw)
    return f"(CAST(strftime('%s', {column}) AS INTEGER) * 1000000 + CAST(substr({column}, 21, 6) AS INTEGER))"


@compiles(epoch_us, "postgresql")
def _epoch_us_postgresql(element: epoch_us, compiler: Any, **kw: Any) -> str:
    # EXTRACT gives an exact numeric (PostgreSQL 14+): seconds with the microseconds as decimals.
    return f"CAST(EXTRACT(EPOCH FROM {compiler.process(element.clauses, **kw)}) * 1000000 AS BIGINT)"


def table(model: type[Base]) -> sa.Table:
    """A mapped class's table, for Core statements on hot paths: executed on the session's connection
    they cost about a third of the ORM's Python work per statement."""
    return cast(sa.Table, model.__table__)


JSONType = sa.JSON().with_variant(JSONB(), "postgresql")
"""JSON on SQLite, JSONB on PostgreSQL."""


def grid_cell_column() -> Mapped[int]:
    """A row's spatial grid cell (``geo.grid_cell``), computed on insert from its ``latitude`` and
    ``longitude`` columns; with an index on (cell, time) a nearby search reads only the cells around it."""

    def from_position(context: sa.engine.interfaces.ExecutionContext) -> int:
        row = context.get_current_parameters()  # type: ignore[attr-defined]
        return grid_cell(row["latitude"], row["longitude"])

    return mapped_column(sa.Integer, default=from_position)


def _configure_sqlite(
    engine: Engine, settings: Settings, *, write_lock: Path | None, timeout_s: float
) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        if write_lock is not None:
            dbapi_connection.write_lock = WriteLock(write_lock, timeout_s)
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(settings.sqlite_busy_timeout_ms)}")
        cursor.execute(f"PRAGMA synchronous={settings.sqlite_synchronous}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    if write_lock is None:

        @event.listens_for(engine, "begin")
        def _on_begin(connection: sa.Connection) -> None:
            connection.exec_driver_sql("BEGIN")

        return

    @event.listens_for(engine, "begin")
    def _on_begin_write(connection: sa.Connection) -> None:
        lock: WriteLock = connection.connection.dbapi_connection.write_lock  # type: ignore[union-attr]
        try:
            lock.acquire()
        except sqlite3.OperationalError as exc:  # as SQLite's own "database is locked" would surface
            raise sa.exc.OperationalError("BEGIN IMMEDIATE", None, exc) from exc
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            lock.release()
            raise


CONNECTIONS_PER_ROUTE_THREAD = 2
"""A route may hold a write and a read session at once (its access check reads, its use case writes)."""
BACKGROUND_CONNECTIONS = 4
"""Rescoring, delivery, escalation and retention each hold at most one connection at a time."""
HEALTH_CONNECTIONS = 1
"""``/health`` pings on its own connection, so it answers while every request connection is busy."""


def pool_size(settings: Settings) -> int:
    """Connections of one process's request pool, derived from its threads: every thread that can hold
    a connection has one waiting for it, so a thread never waits on a connection that only a waiting
    thread could free (``core.dependencies`` returns each request's connection in its route thread)."""
    return CONNECTIONS_PER_ROUTE_THREAD * settings.route_threads + BACKGROUND_CONNECTIONS


def create_engine(settings: Settings, *, immediate: bool = True, connections: int | None = None) -> Engine:
    """An engine for ``settings``; on SQLite ``immediate`` picks write (True) or read behaviour.

    ``connections`` (default ``pool_size``) is a hard cap: no overflow, and a checkout that waits longer
    than ``db_pool_timeout_s`` raises ``sqlalchemy.exc.TimeoutError`` (answered 503 by ``core.errors``)."""
    connections = connections or pool_size(settings)
    url = sa.make_url(settings.resolved_database_url)
    if url.get_backend_name() == "sqlite":
        on_disk = bool(url.database) and url.database != ":memory:"
        if on_disk:
            make_private_dir(Path(str(url.database)).parent)
            create_private_file(Path(str(url.database)))  # SQLite gives -wal/-shm the same mode
        # Writers of all processes queue on a file lock (``core.writelock``): handed over at once.
        write_lock = lock_path(str(url.database)) if immediate and on_disk else None
        busy_timeout_s = settings.sqlite_busy_timeout_ms / 1000
        # SQLite runs one writer at a time. Writers of this process queue for the write engine's single
        # pooled connection, and the one that commits hands it straight to the next; on the file lock
        # they would sleep in SQLite's busy handler (1, 2, 5 ... 100 ms) while the lock sat free.
        engine = sa.create_engine(
            url,
            json_serializer=jsoncodec.dumps_text,
            json_deserializer=jsoncodec.loads,
            connect_args={
                "check_same_thread": False,
                "timeout": busy_timeout_s,
                **({"factory": LockingConnection} if write_lock is not None else {}),
            },
            pool_size=1 if immediate else connections,
            max_overflow=0,
            pool_timeout=busy_timeout_s if immediate else settings.db_pool_timeout_s,
        )
        _configure_sqlite(engine, settings, write_lock=write_lock, timeout_s=busy_timeout_s)
        return engine
    return sa.create_engine(
        url,
        json_serializer=jsoncodec.dumps_text,
        json_deserializer=jsoncodec.loads,
        pool_size=connections,
        max_overflow=0,
        pool_timeout=settings.db_pool_timeout_s,
        pool_pre_ping=True,
    )


WROTE = "safesphere.wrote"
"""``Session.info`` key: the session flushed changes in its current transaction."""


def _track_writes(factory: sessionmaker[Session]) -> None:
    @event.listens_for(factory, "after_flush")
    def _flushed(session: Session, _context: Any) -> None:
        session.info[WROTE] = True

    @event.listens_for(factory, "after_transaction_end")
    def _ended(session: Session, transaction: Any) -> None:
        if transaction.parent is None:
            session.info.pop(WROTE, None)


class Database:
    """The engines and session factories of one running SafeSphere."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.engine = create_engine(settings, immediate=True)
        self.read_engine = create_engine(settings, immediate=False) if settings.is_sqlite else self.engine
        cipher = encryption.FieldCipher.from_settings(settings)
        for engine in {self.engine, self.read_engine}:
            encryption.attach(engine, cipher)
        self.health_engine = create_engine(settings, immediate=False, connections=HEALTH_CONNECTIONS)
        self._writer = sessionmaker(self.engine, expire_on_commit=False)
        self._reader = sessionmaker(self.read_engine, expire_on_commit=False)
        for factory in (self._writer, self._reader):
            _track_writes(factory)

    def new_session(self) -> Session:
        """A new write session; the caller closes it."""
        return self._writer()

    def new_read_session(self) -> Session:
        """A new read session; the caller closes it."""
        return self._reader()

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session for a use case that writes; the use case commits, anything else rolls back."""
        with self._writer() as session:
            yield session

    @contextmanager
    def read_session(self) -> Iterator[Session]:
        """A session for reads only; it never takes the write lock."""
        with self._reader() as session:
            yield session

    def ping(self) -> bool:
        """Whether the database answers, asked on a connection of its own (never queued behind requests)."""
        try:
            with self.health_engine.connect() as connection:
                connection.execute(sa.text("SELECT 1"))
        except sa.exc.SQLAlchemyError:
            return False
        return True

    def dispose(self) -> None:
        self.health_engine.dispose()
        self.engine.dispose()
        if self.read_engine is not self.engine:
            self.read_engine.dispose()
