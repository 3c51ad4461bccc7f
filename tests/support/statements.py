"""Counting the SQL statements a piece of work sends, on every engine of a database."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa

from safesphere.core.db import Database


@contextmanager
def counting(db: Database) -> Iterator[list[str]]:
    """Yields the list the statements sent meanwhile are appended to (each execute or executemany once).
    Transaction starts are left out: SQLite's are statements, PostgreSQL's driver begins by itself."""
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.startswith("BEGIN"):
            statements.append(statement)

    engines = {id(db.engine): db.engine, id(db.read_engine): db.read_engine}
    for engine in engines.values():
        sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        for engine in engines.values():
            sa.event.remove(engine, "before_cursor_execute", record)
