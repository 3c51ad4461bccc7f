"""Every report is an incident: a repeat of an open incident is its own row linked by grouped_into;
the rows of incident_reports move into incidents and the table goes

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-05 15:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import safesphere.core.db

revision: str = "0028"
down_revision: str | Sequence[str] | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
OBSERVED = (
    "threat_level, threat_score, people_count, weapon_detected, weapon_types, behavior_summary, "
    "is_critical, full_telemetry"
)
ACTION_BY_LEVEL = (
    "CASE r.threat_level WHEN 'LOW' THEN 'MONITOR' WHEN 'MEDIUM' THEN 'ALERT_USER' "
    "WHEN 'HIGH' THEN 'ALERT_POLICE' ELSE 'EMERGENCY_PROTOCOL' END"
)
"""The default protocol's action_taken per level (the revision cannot read a deployment's protocol file)."""


def upgrade() -> None:
    with op.batch_alter_table("incidents") as batch:
        batch.add_column(sa.Column("grouped_into", sa.String(length=64), nullable=True))
        batch.create_index(batch.f("ix_incidents_grouped_into"), ["grouped_into"], unique=False)
    # Each kept repeat becomes the incident row its id stands for, linked to the incident it repeated;
    # it shares that incident's place, source and owner, and its closing status once closed.
    observed = ", ".join(f"r.{name.strip()}" for name in OBSERVED.split(","))
    op.execute(
        sa.text(
            f"INSERT INTO incidents (incident_id, timestamp, {OBSERVED}, latitude, longitude, "  # noqa: S608
            "location_accuracy_m, location_source, source_id, engine_key_id, owner_id, request_hash, status, "
            "action_taken, resolved_at, escalation_round, duplicate_count, last_reported_at, created_at, "
            "updated_at, grouped_into) "
            f"SELECT r.report_id, r.timestamp, {observed}, i.latitude, i.longitude, i.location_accuracy_m, "
            "i.location_source, i.source_id, r.engine_key_id, i.owner_id, r.request_hash, "
            "CASE WHEN i.status IN ('resolved', 'false_alarm') THEN i.status ELSE 'grouped' END, "
            f"{ACTION_BY_LEVEL}, i.resolved_at, 0, 0, r.timestamp, r.received_at, r.received_at, "
            "r.incident_id FROM incident_reports r JOIN incidents i ON i.incident_id = r.incident_id"
        )
    )
    with op.batch_alter_table("incident_reports") as batch:
        batch.drop_index(batch.f("ix_incident_reports_incident_id"))
    op.drop_table("incident_reports")


def downgrade() -> None:
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
    with op.batch_alter_table("incident_reports") as batch:
        batch.create_index(batch.f("ix_incident_reports_incident_id"), ["incident_id"], unique=False)
    grouped = "g.grouped_into IS NOT NULL AND g.grouped_into IN (SELECT incident_id FROM incidents)"
    op.execute(
        sa.text(
            "INSERT INTO incident_reports (report_id, incident_id, grouping, timestamp, received_at, "  # noqa: S608
            f"{OBSERVED}, engine_key_id, request_hash) SELECT g.incident_id, g.grouped_into, 'attached', "
            f"g.timestamp, g.created_at, "
            + ", ".join(f"g.{name.strip()}" for name in OBSERVED.split(","))
            + f", g.engine_key_id, g.request_hash FROM incidents g WHERE {grouped}"
        )
    )
    op.execute(sa.text("DELETE FROM incidents WHERE grouped_into IS NOT NULL"))
    with op.batch_alter_table("incidents") as batch:
        batch.drop_index(batch.f("ix_incidents_grouped_into"))
        batch.drop_column("grouped_into")
