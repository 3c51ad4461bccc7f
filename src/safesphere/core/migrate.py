"""Schema migrations, run programmatically by the CLI, the server start-up and the tests."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from safesphere.core.config import Settings

MIGRATIONS_DIR = Path(__file__).resolve().parents[3] / "migrations"

MIGRATION_LOCK_KEY = 0x5AFE_5FE1
"""The PostgreSQL advisory lock the migrating connection holds."""


@contextmanager
def migration_lock(connection: sa.Connection) -> Iterator[None]:
    """Instances started together on one new database migrate one after the other (the later ones find
    the schema current) instead of racing to create the same tables.

    PostgreSQL: a session advisory lock on the migrating connection. SQLite (whose DDL Alembic does not
    run in one transaction): an exclusive ``flock`` on ``<database>-migrate.lock``, freed by the
    operating system if the process dies."""
    if connection.dialect.name == "postgresql":
        connection.execute(sa.select(sa.func.pg_advisory_lock(MIGRATION_LOCK_KEY)))
        connection.commit()
        try:
            yield
        finally:
            connection.rollback()
            connection.execute(sa.select(sa.func.pg_advisory_unlock(MIGRATION_LOCK_KEY)))
            connection.commit()
        return
    database = connection.engine.url.database
    if connection.dialect.name != "sqlite" or not database or database == ":memory:":
        yield
        return
    descriptor = os.open(f"{database}-migrate.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)


def alembic_config(settings: Settings) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["settings"] = settings
    return config


def upgrade(settings: Settings, revision: str = "heads") -> None:
    command.upgrade(alembic_config(settings), revision)


def downgrade(settings: Settings, revision: str) -> None:
    command.downgrade(alembic_config(settings), revision)
