"""Instances started together on a new database: the migrations run once, under a lock, and all start."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory

from safesphere.core import migrate
from safesphere.core.config import Settings
from tests.conftest import BACKEND
from tests.support.live import settings_env
from tests.support.postgres import PostgresServer

INSTANCES = 4


def _empty_database(tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    """Settings for a database nothing has been created in yet (not the suite's migrated template)."""
    if BACKEND == "postgres":
        server: PostgresServer = request.getfixturevalue("postgres_server")
        name = f"fresh_{uuid.uuid4().hex[:12]}"
        admin = sa.create_engine(server.admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(sa.text(f"CREATE DATABASE {name}"))
        admin.dispose()
        return Settings(data_dir=tmp_path, database_url=server.url(name), jwt_secret="s" * 48)
    return Settings(data_dir=tmp_path, jwt_secret="s" * 48)


def test_instances_migrating_a_new_database_at_once_all_succeed(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    settings = _empty_database(tmp_path, request)
    safesphere = str(Path(sys.executable).parent / "safesphere")
    upgrades = [
        subprocess.Popen(
            [safesphere, "db", "upgrade"],
            env=settings_env(settings),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(INSTANCES)
    ]
    outputs = [upgrade.communicate(timeout=120)[0] for upgrade in upgrades]

    assert [upgrade.returncode for upgrade in upgrades] == [0] * INSTANCES, outputs
    head = ScriptDirectory.from_config(migrate.alembic_config(settings)).get_current_head()
    engine = sa.create_engine(settings.resolved_database_url)
    with engine.connect() as connection:
        versions = connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalars().all()
    engine.dispose()
    assert versions == [head]
