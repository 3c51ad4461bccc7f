"""ThreatReporter when the server answers late or fails: a timeout or a 5xx spools, and still only one
incident is stored even when the server finished the first attempt after the client gave up."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

from safesphere.client import Outcome, ThreatReporter
from safesphere.core.config import Settings
from tests.client.conftest import FAST_BACKOFF, ServerView, engine_incident, eventually
from tests.factories import Account, EngineCredentials
from tests.support.live import LiveServer

Reporter = Callable[..., ThreatReporter]


@contextmanager
def database_write_lock(settings: Settings) -> Iterator[None]:
    """Hold the incidents table's write lock from outside the server, as a long migration or backup would."""
    if settings.is_sqlite:
        connection = sqlite3.connect(settings.data_dir / "safesphere.db", isolation_level=None)
        connection.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            connection.execute("ROLLBACK")
            connection.close()
        return
    engine = sa.create_engine(settings.resolved_database_url)
    try:
        with engine.connect() as locker, locker.begin():
            locker.execute(sa.text("LOCK TABLE incidents IN EXCLUSIVE MODE"))
            yield
    finally:
        engine.dispose()


def test_a_timeout_spools_and_the_late_success_is_not_duplicated(
    settings: Settings, make_reporter: Reporter, server_view: ServerView
) -> None:
    reporter = make_reporter(timeout=1.0)
    incident = engine_incident(level="CRITICAL")

    with database_write_lock(settings):
        result = reporter.report(incident)
        assert result.outcome is Outcome.spooled
        assert "Timeout" in str(result.detail)

    eventually(lambda: reporter.pending() == 0)
    assert server_view.incident(incident["incident_id"]) is not None
    assert server_view.total_incidents() == 1
    assert reporter.rejections() == []


@pytest.fixture
def impatient_server(settings: Settings) -> Iterator[LiveServer]:
    """A server whose database gives up on a held lock after 200 ms, so a write fails with a 5xx."""
    server = LiveServer(settings, extra_env={"SAFESPHERE_SQLITE_BUSY_TIMEOUT_MS": "200"})
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.mark.sqlite_only
def test_a_server_error_spools_and_is_retried_until_it_succeeds(
    settings: Settings,
    impatient_server: LiveServer,
    engine: EngineCredentials,
    authority: Account,
    tmp_path: Path,
) -> None:
    view = ServerView(impatient_server, authority)
    incident = engine_incident(level="HIGH")
    with ThreatReporter(
        impatient_server.url, engine.key, spool_path=tmp_path / "spool.db", **FAST_BACKOFF
    ) as reporter:
        with database_write_lock(settings):
            result = reporter.report(incident)
            assert result.outcome is Outcome.spooled
            assert result.status_code is not None and result.status_code >= 500
            assert reporter.pending() == 1

        eventually(lambda: reporter.pending() == 0)

    assert view.incident(incident["incident_id"]) is not None
    assert view.total_incidents() == 1
