"""Change announcements: on PostgreSQL, a NOTIFY on safesphere_changes naming each table a transaction
changed that other instances hold state about (core/announcements.py); nothing on SQLite

Revision ID: 0034
Revises: 0033
Create Date: 2026-12-05 19:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0034"
down_revision: str | Sequence[str] | None = "0033"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ANNOUNCED = {
    "incidents": "INSERT OR UPDATE OR DELETE",
    "alerts": "INSERT OR UPDATE OR DELETE",
    "zones": "INSERT OR UPDATE OR DELETE",
    "channels": "INSERT OR UPDATE OR DELETE",
    "places": "INSERT OR UPDATE OR DELETE",
    "engine_keys": "INSERT OR UPDATE OR DELETE",
    # New work only: the workers' own claims and results would wake every other worker, round after round.
    "deliveries": "INSERT",
}
"""Table -> the changes announced. Row triggers: a statement that changes no row announces nothing, and
the many rows of one transaction make one notification (PostgreSQL folds identical ones)."""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        """
        CREATE FUNCTION safesphere_announce() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('safesphere_changes', TG_TABLE_NAME);
            RETURN NULL;
        END $$
        """
    )
    for table, events in ANNOUNCED.items():
        op.execute(
            f"CREATE TRIGGER {table}_announce AFTER {events} ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION safesphere_announce()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in ANNOUNCED:
        op.execute(f"DROP TRIGGER {table}_announce ON {table}")
    op.execute("DROP FUNCTION safesphere_announce()")
