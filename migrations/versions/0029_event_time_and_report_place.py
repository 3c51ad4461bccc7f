"""Event time and report place: a key's time zone; an incident's reported time, receipt time, clock skew
and the age of the owner's fix it was placed at

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-05 15:15:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import safesphere.core.db

revision: str = "0029"
down_revision: str | Sequence[str] | None = "0028"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("engine_keys") as batch:
        batch.add_column(sa.Column("timezone", sa.String(length=64), nullable=True))
    with op.batch_alter_table("incidents") as batch:
        batch.add_column(
            sa.Column("reported_timestamp", safesphere.core.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch.add_column(
            sa.Column("received_at", safesphere.core.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch.add_column(sa.Column("clock_skew_s", sa.Double(), nullable=True))
        batch.add_column(sa.Column("location_fix_age_s", sa.Double(), nullable=True))
    # Before this revision the receipt was the creation and the event time the one reported.
    op.execute("UPDATE incidents SET received_at = created_at, reported_timestamp = timestamp")


def downgrade() -> None:
    with op.batch_alter_table("incidents") as batch:
        batch.drop_column("location_fix_age_s")
        batch.drop_column("clock_skew_s")
        batch.drop_column("received_at")
        batch.drop_column("reported_timestamp")
    with op.batch_alter_table("engine_keys") as batch:
        batch.drop_column("timezone")
