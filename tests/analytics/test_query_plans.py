"""The history and the hourly analytics read ranges of a time index, never a scan of deliveries or incidents:
the statements each request sends, explained by SQLite (PostgreSQL's planner picks by table statistics,
which a test's few rows do not have)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from safesphere.core.db import Database
from tests.factories import Factory

pytestmark = pytest.mark.sqlite_only

READS = [
    ("/deliveries", {"order": "failed_first", "since": "2026-03-14T00:00:00Z", "limit": 25}),
    ("/deliveries", {"status": "failed", "audience": "contact", "since": "2026-03-14T00:00:00Z"}),
    ("/deliveries", {"channel": "log", "until": "2026-03-15T00:00:00Z"}),
    ("/statistics/hourly", {"since": "2026-03-10T00:00:00Z", "until": "2026-03-15T00:00:00Z"}),
]


@contextmanager
def recorded(db: Database) -> Iterator[list[tuple[str, Any]]]:
    sent: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            sent.append((statement, parameters))

    sa.event.listen(db.read_engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        sa.event.remove(db.read_engine, "before_cursor_execute", record)


def _plan(db: Database, statement: str, parameters: Any) -> list[str]:
    with db.read_engine.connect() as connection:
        cursor = connection.connection.cursor()
        return [row[-1] for row in cursor.execute(f"EXPLAIN QUERY PLAN {statement}", parameters).fetchall()]


@pytest.mark.parametrize(("path", "params"), READS)
def test_each_read_is_an_indexed_range(
    client: TestClient, factory: Factory, db: Database, path: str, params: dict[str, Any]
) -> None:
    officer = factory.authority()
    with recorded(db) as sent:
        assert client.get(path, params=params, headers=officer.headers).status_code == 200
    plans = [
        (statement, _plan(db, statement, parameters))
        for statement, parameters in sent
        if " deliveries" in statement or " incidents" in statement
    ]
    assert plans, "the request read the tables"
    for statement, plan in plans:
        reads = [step for step in plan if step.startswith(("SCAN", "SEARCH"))]
        # A range of the time the request bounds, not the index of some column most rows share.
        assert reads and all("created_at" in step or "timestamp" in step for step in reads), (statement, plan)
    if path == "/statistics/hourly":
        assert len(plans) == 2, "one aggregate query for incidents, one for deliveries"
