"""incident grouping: repeated reports from one source attach to its open incident

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-23 09:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import safesphere.core.db

revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "incident_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.String(length=64), nullable=False),
        sa.Column("incident_id", sa.String(length=64), nullable=False),
        sa.Column("grouping", sa.String(length=16), nullable=False),
        sa.Column("timestamp", safesphere.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("received_at", safesphere.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("threat_level", sa.String(length=16), nullable=False),
        sa.Column("threat_score", sa.Double(), nullable=False),
        sa.Column("people_count", sa.Integer(), nullable=False),
        sa.Column("weapon_detected", sa.Boolean(), nullable=False),
        sa.Column("weapon_types", JSON, nullable=False),
        sa.Column("behavior_summary", sa.Text(), nullable=False),
        sa.Column("is_critical", sa.Boolean(), nullable=False),
        sa.Column("full_telemetry", JSON, nullable=False),
        sa.Column("engine_key_id", sa.Integer(), nullable=True),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["engine_key_id"],
            ["engine_keys.id"],
            name=op.f("fk_incident_reports_engine_key_id_engine_keys"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.incident_id"],
            name=op.f("fk_incident_reports_incident_id_incidents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_reports")),
        sa.UniqueConstraint("report_id", name=op.f("uq_incident_reports_report_id")),
    )
    with op.batch_alter_table("incident_reports", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_incident_reports_incident_id"), ["incident_id"], unique=False)

    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("duplicate_count", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(
            sa.Column("last_reported_at", safesphere.core.db.UTCDateTime(timezone=True), nullable=True)
        )
    # An incident stored before grouping was last seen when it was first seen.
    op.execute(sa.text("UPDATE incidents SET last_reported_at = timestamp"))
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.create_index(
            "ix_incidents_source_last_report",
            ["engine_key_id", "source_id", "last_reported_at"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.drop_index("ix_incidents_source_last_report")
        batch_op.drop_column("last_reported_at")
        batch_op.drop_column("duplicate_count")

    with op.batch_alter_table("incident_reports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_incident_reports_incident_id"))

    op.drop_table("incident_reports")
