"""alerts.updated_at and the indexes the live feed polls (incidents and alerts changed since a moment)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01 14:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import safesphere.core.db

revision: str = "0016"
down_revision: str | Sequence[str] | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.add_column(
            sa.Column("updated_at", safesphere.core.db.UTCDateTime(timezone=True), nullable=True)
        )
    # An existing alert last changed when it was resolved, acknowledged or created, in that order.
    op.execute("UPDATE alerts SET updated_at = COALESCE(resolved_at, acknowledged_at, created_at)")
    with op.batch_alter_table("alerts") as batch:
        batch.alter_column(
            "updated_at", existing_type=safesphere.core.db.UTCDateTime(timezone=True), nullable=False
        )
    op.create_index("ix_alerts_updated_at", "alerts", ["updated_at"])
    op.create_index("ix_incidents_updated_at", "incidents", ["updated_at"])


def downgrade() -> None:
    op.drop_index("ix_incidents_updated_at", table_name="incidents")
    op.drop_index("ix_alerts_updated_at", table_name="alerts")
    with op.batch_alter_table("alerts") as batch:
        batch.drop_column("updated_at")
