"""tourist safety: fixes, status, contacts, zones, alerts

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22 23:51:45.906607
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import safesphere.core.db

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.alter_column("preferred_language", existing_type=sa.String(length=16), nullable=True)
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("latitude", sa.Double(), nullable=False),
        sa.Column("longitude", sa.Double(), nullable=False),
        sa.Column("occurred_at", safesphere.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("tourist_id", sa.Integer(), nullable=True),
        sa.Column("incident_id", sa.String(length=64), nullable=True),
        sa.Column("acknowledged_by", sa.Integer(), nullable=True),
        sa.Column("acknowledged_at", safesphere.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.Integer(), nullable=True),
        sa.Column("resolved_at", safesphere.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("resolution_notes", sa.Text(), nullable=True),
        sa.Column("created_at", safesphere.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["acknowledged_by"],
            ["users.id"],
            name=op.f("fk_alerts_acknowledged_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["resolved_by"], ["users.id"], name=op.f("fk_alerts_resolved_by_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["tourist_id"], ["users.id"], name=op.f("fk_alerts_tourist_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
    )
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alerts_incident_id"), ["incident_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_alerts_status"), ["status"], unique=False)
        batch_op.create_index(
            "ix_alerts_time_lat_lon", ["occurred_at", "latitude", "longitude"], unique=False
        )
        batch_op.create_index(
            "ix_alerts_tourist_type_time", ["tourist_id", "type", "occurred_at"], unique=False
        )

    op.create_table(
        "emergency_contacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("relation", sa.String(length=100), nullable=True),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("created_at", safesphere.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_emergency_contacts_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_emergency_contacts")),
    )
    with op.batch_alter_table("emergency_contacts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_emergency_contacts_user_id"), ["user_id"], unique=False)

    op.create_table(
        "location_fixes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tourist_id", sa.Integer(), nullable=False),
        sa.Column("latitude", sa.Double(), nullable=False),
        sa.Column("longitude", sa.Double(), nullable=False),
        sa.Column("altitude", sa.Double(), nullable=True),
        sa.Column("speed", sa.Double(), nullable=True),
        sa.Column("accuracy", sa.Double(), nullable=True),
        sa.Column("timestamp", safesphere.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("safety_score", sa.Double(), nullable=True),
        sa.Column("tourist_safety_score", sa.Double(), nullable=True),
        sa.Column("risk_level", sa.String(length=16), nullable=True),
        sa.Column(
            "factors",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("safety_score_updated_at", safesphere.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", safesphere.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tourist_id"], ["users.id"], name=op.f("fk_location_fixes_tourist_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_location_fixes")),
    )
    with op.batch_alter_table("location_fixes", schema=None) as batch_op:
        batch_op.create_index(
            "ix_location_fixes_time_lat_lon", ["timestamp", "latitude", "longitude"], unique=False
        )
        batch_op.create_index("ix_location_fixes_tourist_time", ["tourist_id", "timestamp"], unique=False)

    op.create_table(
        "zones",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("center_lat", sa.Double(), nullable=False),
        sa.Column("center_lon", sa.Double(), nullable=False),
        sa.Column("radius_km", sa.Double(), nullable=False),
        sa.Column(
            "polygon",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", safesphere.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", safesphere.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_zones_created_by_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_zones")),
    )
    op.create_table(
        "tourist_status",
        sa.Column("tourist_id", sa.Integer(), nullable=False),
        sa.Column("last_fix_id", sa.Integer(), nullable=False),
        sa.Column("latitude", sa.Double(), nullable=False),
        sa.Column("longitude", sa.Double(), nullable=False),
        sa.Column("last_seen", safesphere.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("location_safety_score", sa.Double(), nullable=False),
        sa.Column("tourist_safety_score", sa.Double(), nullable=False),
        sa.Column("risk_level", sa.String(length=16), nullable=False),
        sa.Column("updated_at", safesphere.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["last_fix_id"],
            ["location_fixes.id"],
            name=op.f("fk_tourist_status_last_fix_id_location_fixes"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tourist_id"], ["users.id"], name=op.f("fk_tourist_status_tourist_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("tourist_id", name=op.f("pk_tourist_status")),
    )
    with op.batch_alter_table("tourist_status", schema=None) as batch_op:
        batch_op.create_index("ix_tourist_status_lat_lon", ["latitude", "longitude"], unique=False)
        batch_op.create_index(batch_op.f("ix_tourist_status_risk_level"), ["risk_level"], unique=False)


def downgrade() -> None:
    op.execute("UPDATE users SET preferred_language = 'en' WHERE preferred_language IS NULL")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.alter_column("preferred_language", existing_type=sa.String(length=16), nullable=False)
    with op.batch_alter_table("tourist_status", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tourist_status_risk_level"))
        batch_op.drop_index("ix_tourist_status_lat_lon")

    op.drop_table("tourist_status")
    op.drop_table("zones")
    with op.batch_alter_table("location_fixes", schema=None) as batch_op:
        batch_op.drop_index("ix_location_fixes_tourist_time")
        batch_op.drop_index("ix_location_fixes_time_lat_lon")

    op.drop_table("location_fixes")
    with op.batch_alter_table("emergency_contacts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_emergency_contacts_user_id"))

    op.drop_table("emergency_contacts")
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_index("ix_alerts_tourist_type_time")
        batch_op.drop_index("ix_alerts_time_lat_lon")
        batch_op.drop_index(batch_op.f("ix_alerts_status"))
        batch_op.drop_index(batch_op.f("ix_alerts_incident_id"))

    op.drop_table("alerts")
