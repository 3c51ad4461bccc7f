"""Indexes for the notifications history and the hourly analytics: deliveries by creation time, and by
status then creation time (failed ones first)

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-05 19:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0030"
down_revision: str | Sequence[str] | None = "0029"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_deliveries_created_at", "deliveries", ["created_at", "id"])
    op.create_index("ix_deliveries_status_created_at", "deliveries", ["status", "created_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_deliveries_status_created_at", table_name="deliveries")
    op.drop_index("ix_deliveries_created_at", table_name="deliveries")
