"""spatial grid cells on alerts and location fixes

Revision ID: 0009
Revises: 0006
Create Date: 2026-11-23 10:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from safesphere.geo import grid_cell

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BACKFILL_BATCH = 5000
TABLES = {"alerts": "occurred_at", "location_fixes": "timestamp"}
"""Each table with a position and the time column its nearby searches filter on."""


def _backfill(table_name: str) -> None:
    """Existing rows get their cell computed here, in Python: SQLite has no portable floor()."""
    connection = op.get_bind()
    table = sa.table(
        table_name,
        sa.column("id", sa.Integer),
        sa.column("latitude"),
        sa.column("longitude"),
        sa.column("cell"),
    )
    last_id = 0
    while True:
        rows = connection.execute(
            sa.select(table.c.id, table.c.latitude, table.c.longitude)
            .where(table.c.id > last_id)
            .order_by(table.c.id)
            .limit(BACKFILL_BATCH)
        ).all()
        if not rows:
            return
        connection.execute(
            table.update().where(table.c.id == sa.bindparam("row_id")).values(cell=sa.bindparam("row_cell")),
            [{"row_id": row.id, "row_cell": grid_cell(row.latitude, row.longitude)} for row in rows],
        )
        last_id = rows[-1].id


def upgrade() -> None:
    for table_name, time_column in TABLES.items():
        with op.batch_alter_table(table_name, schema=None) as batch_op:
            batch_op.add_column(sa.Column("cell", sa.Integer(), nullable=True))
        _backfill(table_name)
        with op.batch_alter_table(table_name, schema=None) as batch_op:
            batch_op.alter_column("cell", existing_type=sa.Integer(), nullable=False)
            batch_op.create_index(f"ix_{table_name}_cell_time", ["cell", time_column], unique=False)


def downgrade() -> None:
    for table_name in TABLES:
        with op.batch_alter_table(table_name, schema=None) as batch_op:
            batch_op.drop_index(f"ix_{table_name}_cell_time")
            batch_op.drop_column("cell")
