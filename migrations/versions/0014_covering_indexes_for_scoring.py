"""covering indexes for scoring: alerts around a fix, a tourist's 30-day average, the zone index's version

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 09:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0014"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ALERT_COLUMNS = [
    "cell", "occurred_at", "latitude", "longitude", "type", "tourist_id", "severity", "status", "resolved_at", "id",
]  # fmt: skip
"""Everything a fix's alert query reads, so it never visits the table (1M alerts: ~2.7 ms -> ~0.45 ms)."""


def upgrade() -> None:
    op.drop_index("ix_alerts_cell_time", table_name="alerts")
    op.create_index("ix_alerts_cell_time", "alerts", ALERT_COLUMNS)
    op.drop_index("ix_location_fixes_tourist_time", table_name="location_fixes")
    op.create_index(
        "ix_location_fixes_tourist_time", "location_fixes", ["tourist_id", "timestamp", "safety_score"]
    )
    op.create_index("ix_zones_updated_at", "zones", ["updated_at"])


def downgrade() -> None:
    op.drop_index("ix_zones_updated_at", table_name="zones")
    op.drop_index("ix_location_fixes_tourist_time", table_name="location_fixes")
    op.create_index("ix_location_fixes_tourist_time", "location_fixes", ["tourist_id", "timestamp"])
    op.drop_index("ix_alerts_cell_time", table_name="alerts")
    op.create_index("ix_alerts_cell_time", "alerts", ["cell", "occurred_at"])
