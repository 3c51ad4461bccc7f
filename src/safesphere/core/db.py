"""The database: engines, sessions and the column types every domain shares.

SQLite (the embedded default) runs in WAL mode with a busy timeout, and write sessions open
with ``BEGIN IMMEDIATE`` so two writers queue for the lock instead of one failing with
"database is locked" when it upgrades a read lock. Read sessions use deferred transactions and
never block in WAL mode. On PostgreSQL both session kinds share one engine.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from safesphere.core.config import Settings
from safesphere.core.geo import grid_cell

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


def table(model: type[Base]) -> sa.Table:
    """A mapped class's table, for Core statements on hot paths: executed on the session's connection
    they cost about a third of the ORM's Python work per statement."""
    return cast(sa.Table, model.__table__)


JSONType = sa.JSON().with_variant(JSONB(), "postgresql")
"""JSON on SQLite, JSONB on PostgreSQL."""


def grid_cell_column() -> Mapped[int]:
    """A row's spatial grid cell (``core.geo.grid_cell``), computed on insert from its ``latitude`` and
    ``longitude`` columns; with an index on (cell, time) a nearby search reads only the cells around it."""

    def from_position(context: sa.engine.interfaces.ExecutionContext) -> int:
        row = context.get_current_parameters()  # type: ignore[attr-defined]
        return grid_cell(row["latitude"], row["longitude"])

    return mapped_column(sa.Integer, default=from_position)


def _configure_sqlite(engine: Engine, settings: Settings, *, immediate: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(settings.sqlite_busy_timeout_ms)}")
        cursor.execute(f"PRAGMA synchronous={settings.sqlite_synchronous}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    begin = "BEGIN IMMEDIATE" if immediate else "BEGIN"

    @event.listens_for(engine, "begin")
    def _on_begin(connection: sa.Connection) -> None:
        connection.exec_driver_sql(begin)


def create_engine(settings: Settings, *, immediate: bool = True) -> Engine:
    """An engine for ``settings``; on SQLite ``immediate`` picks write (True) or read behaviour."""
    url = sa.make_url(settings.resolved_database_url)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            from pathlib import Path

            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        busy_timeout_s = settings.sqlite_busy_timeout_ms / 1000
        # SQLite runs one writer at a time. Writers of this process queue for the write engine's single
        # pooled connection, and the one that commits hands it straight to the next; on the file lock
        # they would sleep in SQLite's busy handler (1, 2, 5 ... 100 ms) while the lock sat free.
        pool_size = 1 if immediate else settings.db_pool_size
        engine = sa.create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": busy_timeout_s},
            pool_size=pool_size,
            max_overflow=0 if immediate else 2 * settings.db_pool_size,
            pool_timeout=busy_timeout_s,
        )
        _configure_sqlite(engine, settings, immediate=immediate)
        return engine
    return sa.create_engine(
        url, pool_size=settings.db_pool_size, max_overflow=2 * settings.db_pool_size, pool_pre_ping=True
    )


class Database:
    """The engines and session factories of one running SafeSphere."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.engine = create_engine(settings, immediate=True)
        self.read_engine = create_engine(settings, immediate=False) if settings.is_sqlite else self.engine
        self._writer = sessionmaker(self.engine, expire_on_commit=False)
        self._reader = sessionmaker(self.read_engine, expire_on_commit=False)

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
        try:
            with self.read_engine.connect() as connection:
                connection.execute(sa.text("SELECT 1"))
        except sa.exc.SQLAlchemyError:
            return False
        return True

    def dispose(self) -> None:
        self.engine.dispose()
        if self.read_engine is not self.engine:
            self.read_engine.dispose()
