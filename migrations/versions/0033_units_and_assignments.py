"""units and unit_assignments: the response units registry and which incidents each unit is sent to

Revision ID: 0033
Revises: 0032
Create Date: 2026-12-05 19:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import safesphere.core.db

revision: str = "0033"
down_revision: str | Sequence[str] | None = "0032"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "units",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("latitude", sa.Double(), nullable=True),
        sa.Column("longitude", sa.Double(), nullable=True),
        sa.Column("position_at", safesphere.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", safesphere.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", safesphere.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_units")),
        sa.UniqueConstraint("name", name=op.f("uq_units_name")),
    )
    op.create_index(op.f("ix_units_status"), "units", ["status"])
    op.create_table(
        "unit_assignments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.String(length=64), nullable=False),
        sa.Column("assigned_at", safesphere.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("assigned_by", sa.Integer(), nullable=True),
        sa.Column("released_at", safesphere.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_unit_assignments_unit_id_units"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.incident_id"],
            name=op.f("fk_unit_assignments_incident_id_incidents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["assigned_by"],
            ["users.id"],
            name=op.f("fk_unit_assignments_assigned_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unit_assignments")),
    )
    op.create_index(op.f("ix_unit_assignments_incident_id"), "unit_assignments", ["incident_id"])
    op.create_index("ix_unit_assignments_unit_released", "unit_assignments", ["unit_id", "released_at"])


def downgrade() -> None:
    op.drop_index("ix_unit_assignments_unit_released", table_name="unit_assignments")
    op.drop_index(op.f("ix_unit_assignments_incident_id"), table_name="unit_assignments")
    op.drop_table("unit_assignments")
    op.drop_index(op.f("ix_units_status"), table_name="units")
    op.drop_table("units")
