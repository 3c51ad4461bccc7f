"""device commands

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-23 02:37:49.112332
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import safesphere.core.db

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "device_commands",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("engine_key_id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.String(length=64), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column(
            "params",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", safesphere.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", safesphere.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_at", safesphere.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["engine_key_id"],
            ["engine_keys.id"],
            name=op.f("fk_device_commands_engine_key_id_engine_keys"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.incident_id"],
            name=op.f("fk_device_commands_incident_id_incidents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_device_commands")),
    )
    with op.batch_alter_table("device_commands", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_device_commands_incident_id"), ["incident_id"], unique=False)
        batch_op.create_index("ix_device_commands_key_status", ["engine_key_id", "status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("device_commands", schema=None) as batch_op:
        batch_op.drop_index("ix_device_commands_key_status")
        batch_op.drop_index(batch_op.f("ix_device_commands_incident_id"))

    op.drop_table("device_commands")
