"""Alembic environment: the URL comes from SafeSphere's Settings, the metadata from its models."""

from __future__ import annotations

from alembic import context

from safesphere.core.config import Settings
from safesphere.core.db import create_engine
from safesphere.core.migrate import migration_lock
from safesphere.models import metadata

config = context.config
settings: Settings = config.attributes.get("settings") or Settings()


def run_migrations_offline() -> None:
    context.configure(
        url=settings.resolved_database_url,
        target_metadata=metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = create_engine(settings, immediate=True)
    try:
        with engine.connect() as connection, migration_lock(connection):
            context.configure(
                connection=connection,
                target_metadata=metadata,
                render_as_batch=connection.dialect.name == "sqlite",
                compare_type=True,
            )
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
