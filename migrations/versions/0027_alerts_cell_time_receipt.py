"""ix_alerts_cell_time also covers created_at: a fix counts an alert dated just after it (clock skew) only
if the alert was received before the fix, and that test must stay index-only

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-05 15:30:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0027"
down_revision: str | Sequence[str] | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BEFORE = [
    "cell", "occurred_at", "latitude", "longitude", "type", "tourist_id", "severity", "status", "resolved_at", "id",
]  # fmt: skip
"""0014's covering columns; created_at goes last so the index's order (cell, time, ..., id) is unchanged."""


def upgrade() -> None:
    op.drop_index("ix_alerts_cell_time", table_name="alerts")
    op.create_index("ix_alerts_cell_time", "alerts", [*BEFORE, "created_at"])


def downgrade() -> None:
    op.drop_index("ix_alerts_cell_time", table_name="alerts")
    op.create_index("ix_alerts_cell_time", "alerts", BEFORE)
