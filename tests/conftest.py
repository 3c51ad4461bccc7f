"""Fixtures: a real database per test (SQLite file, or PostgreSQL with SAFESPHERE_TEST_BACKEND=postgres)
and the real application behind httpx."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from safesphere.app import create_app
from safesphere.core import migrate
from safesphere.core.config import Settings
from safesphere.core.db import Database
from tests.factories import Factory
from tests.support.live import LiveServer
from tests.support.postgres import PostgresServer

BACKEND = os.environ.get("SAFESPHERE_TEST_BACKEND", "sqlite")
TEMPLATE_DB = "safesphere_template"


POSTGRES_FIELD_KEY = "ZmllbGQta2V5LWZvci10ZXN0cy1vbmx5LTAxMjM0NTY="
"""A Fernet key for the PostgreSQL runs (32 bytes, url-safe base64), never used outside tests."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """``postgres_only`` tests (several instances on one PostgreSQL server) are skipped on SQLite."""
    if BACKEND == "postgres":
        return
    skip = pytest.mark.skip(reason="several instances share a PostgreSQL database (SAFESPHERE_TEST_BACKEND)")
    for item in items:
        if item.get_closest_marker("postgres_only"):
            item.add_marker(skip)


def _base_settings(data_dir: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "data_dir": data_dir,
        "jwt_secret": "test-secret-not-for-production-0123456789abcdef",
        "sqlite_synchronous": "NORMAL",
        # Deliveries stay pending unless a test turns the worker on (tests/notify do), so other tests see
        # the state their own request left.
        "delivery_worker_enabled": False,
        # Every report opens its own incident unless a test groups repeats (tests/incidents/test_grouping).
        "grouping_window_s": 0,
        # No purge in the background: tests date their data in the documents' February 2026 (tests/retention
        # purge when they mean to).
        "retention_interval_s": 0,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    server = PostgresServer.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> str:
    """The schema built once by the real migrations; each test starts from a copy."""
    root = tmp_path_factory.mktemp("template")
    if BACKEND == "postgres":
        server: PostgresServer = request.getfixturevalue("postgres_server")
        admin = sa.create_engine(server.admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(sa.text(f"CREATE DATABASE {TEMPLATE_DB}"))
        admin.dispose()
        migrate.upgrade(_base_settings(root, database_url=server.url(TEMPLATE_DB)))
        return server.url(TEMPLATE_DB)
    migrate.upgrade(_base_settings(root))
    return str(root / "safesphere.db")


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    """Override in a test module to change settings for its tests."""
    return {}


def fresh_settings(
    data_dir: Path, migrated_template: str, request: pytest.FixtureRequest, **overrides: object
) -> Settings:
    """Settings over a new copy of the migrated template in ``data_dir`` (a new PostgreSQL database)."""
    data_dir.mkdir()
    if BACKEND == "postgres":
        server: PostgresServer = request.getfixturevalue("postgres_server")
        name = f"t_{uuid.uuid4().hex[:12]}"
        admin = sa.create_engine(server.admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(sa.text(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE_DB}"))
        admin.dispose()
        # Instances on PostgreSQL share their secrets (serve refuses generated ones): set, as in production.
        shared = {"field_encryption_key": POSTGRES_FIELD_KEY, **overrides}
        return _base_settings(data_dir, database_url=server.url(name), **shared)
    shutil.copyfile(migrated_template, data_dir / "safesphere.db")
    return _base_settings(data_dir, **overrides)


@pytest.fixture
def settings(
    tmp_path: Path,
    migrated_template: str,
    settings_overrides: dict[str, object],
    request: pytest.FixtureRequest,
) -> Settings:
    return fresh_settings(tmp_path / "data", migrated_template, request, **settings_overrides)


@pytest.fixture
def app_client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as client:
        yield client


@pytest.fixture
def client(app_client: TestClient) -> TestClient:
    return app_client


@pytest.fixture
def db(app_client: TestClient) -> Database:
    """The running app's own database handle (for arranging data and checking what was stored)."""
    database: Database = app_client.app.state.db  # type: ignore[attr-defined]
    return database


@pytest.fixture
def factory(app_client: TestClient, db: Database) -> Factory:
    return Factory(client=app_client, db=db)


@pytest.fixture
def live_server(settings: Settings) -> Iterator[LiveServer]:
    """A started uvicorn server on loopback over this test's database; ``kill()``/``start()`` to crash it."""
    server = LiveServer(settings)
    server.start()
    try:
        yield server
    finally:
        server.stop()
