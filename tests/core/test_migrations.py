"""The migrations build exactly the schema the models describe, and undo it cleanly."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from safesphere import models
from safesphere.core import migrate
from safesphere.core.config import Settings
from safesphere.core.db import Database


def test_the_migrated_schema_matches_the_models(db: Database) -> None:
    with db.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), models.metadata)

    assert differences == []


def test_the_migrations_form_one_chain() -> None:
    script = ScriptDirectory.from_config(migrate.alembic_config(Settings()))

    assert len(script.get_heads()) == 1, script.get_heads()


def test_downgrading_to_the_start_and_upgrading_again_works(settings: Settings, db: Database) -> None:
    migrate.downgrade(settings, "base")
    assert set(sa.inspect(db.engine).get_table_names()) <= {"alembic_version"}

    migrate.upgrade(settings)
    with db.engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), models.metadata) == []
