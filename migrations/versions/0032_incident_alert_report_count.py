"""An incident's safety alert counts its case's reports (nearby-risks lists each incident once with them)

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-05 20:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0032"
down_revision: str | Sequence[str] | None = "0031"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.add_column(sa.Column("report_count", sa.Integer(), server_default="1", nullable=False))
    # The case's own report and the reports grouped into it so far.
    op.execute(
        "UPDATE alerts SET report_count = 1 + (SELECT incidents.duplicate_count FROM incidents"
        " WHERE incidents.incident_id = alerts.incident_id)"
        " WHERE type = 'incident' AND incident_id IN (SELECT incident_id FROM incidents)"
    )


def downgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.drop_column("report_count")
