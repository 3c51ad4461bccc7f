"""Threat incidents and the protocol's record of them: actions taken and alerts to send."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from safesphere.core import clock
from safesphere.core.db import Base, JSONType, UTCDateTime


class IncidentStatus(StrEnum):
    """Where an incident stands; the report use case leaves it at ``actions_executed``, authorities move it
    on (``incidents/lifecycle.py`` holds the legal moves)."""

    logged = "logged"
    actions_executed = "actions_executed"
    acknowledged = "acknowledged"
    dispatched = "dispatched"
    resolved = "resolved"
    false_alarm = "false_alarm"
    grouped = "grouped"
    """A repeat linked to its source's open incident (``grouped_into``) while that case is open; it takes
    the case's closing status when the case is resolved or marked a false alarm."""


class ThreatObservation:
    """What an engine saw in one report (``full_telemetry`` kept whole): a case holds the worst of its
    reports, each report grouped into it keeps its own."""

    threat_level: Mapped[str] = mapped_column(sa.String(16))
    threat_score: Mapped[float]
    people_count: Mapped[int]
    weapon_detected: Mapped[bool]
    weapon_types: Mapped[list[str]] = mapped_column(JSONType)
    behavior_summary: Mapped[str] = mapped_column(sa.Text)
    is_critical: Mapped[bool]
    full_telemetry: Mapped[dict[str, Any]] = mapped_column(JSONType)


class Incident(ThreatObservation, Base):
    """One reported threat, with everything the engine sent (``full_telemetry`` kept whole)."""

    __tablename__ = "incidents"
    __table_args__ = (
        sa.Index("ix_incidents_threat_level_timestamp", "threat_level", "timestamp"),
        sa.Index("ix_incidents_status_timestamp", "status", "timestamp"),
        sa.Index("ix_incidents_source_last_report", "engine_key_id", "source_id", "last_reported_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[str] = mapped_column(sa.String(64), unique=True)
    timestamp: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    """The event time alerts, grouping and scores use (``incidents/event_time.py``): the reported time,
    or the receipt time when the device's clock ran ahead of it."""
    reported_timestamp: Mapped[datetime | None] = mapped_column(UTCDateTime)
    """The time the engine sent, in UTC (None when it sent none)."""
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    """When the server received the report."""
    clock_skew_s: Mapped[float | None]
    """How far the reported time was ahead of the receipt, when beyond the tolerance (then replaced)."""
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    location_accuracy_m: Mapped[float | None]
    location_source: Mapped[str | None] = mapped_column(sa.String(16))
    location_fix_age_s: Mapped[float | None]
    """With ``location_source = owner_last_fix``: how old the owner's fix was when the report arrived."""
    source_id: Mapped[str | None] = mapped_column(sa.String(100), index=True)
    engine_key_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("engine_keys.id", ondelete="SET NULL"), index=True
    )
    owner_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    request_hash: Mapped[str] = mapped_column(sa.String(64))
    status: Mapped[str] = mapped_column(sa.String(32), default=IncidentStatus.logged.value)
    action_taken: Mapped[str | None] = mapped_column(sa.String(64))
    response_time_ms: Mapped[int | None]
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    time_to_acknowledge_ms: Mapped[int | None]
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    dispatch_unit: Mapped[str | None] = mapped_column(sa.String(100))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    escalation_round: Mapped[int] = mapped_column(default=0)
    duplicate_count: Mapped[int] = mapped_column(default=0)
    """Reports of the same source grouped into this incident (their ``grouped_into`` is its id)."""
    grouped_into: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    """For a repeat of its source's open incident: that incident's id (the case it belongs to)."""
    last_reported_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    """When the threat was last seen: the latest ``timestamp`` of this incident's reports."""
    next_escalation_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=clock.now, onupdate=clock.now, index=True
    )
    """Its last change (the live feed sends incidents changed since a moment)."""


class LocationSource(StrEnum):
    """Where an incident's coordinates came from: a fixed camera's key, the report itself, the key owner's
    latest fix (a phone reporting without coordinates), or nowhere."""

    engine_key = "engine_key"
    report = "report"
    owner_last_fix = "owner_last_fix"
    none = "none"


ACTION_EXECUTED = "executed"
"""Status of a protocol step recorded in the report's transaction."""
ACTION_NOT_REPEATED = "not_repeated"
"""Status of a grouped report's step that its open incident already took (the result says why)."""
ALERT_PENDING = "pending"
"""Status of an alert not yet handed to a delivery channel."""


class IncidentAction(Base):
    """A step of the response protocol, as executed for one incident."""

    __tablename__ = "incident_actions"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[str] = mapped_column(
        sa.ForeignKey("incidents.incident_id", ondelete="CASCADE"), index=True
    )
    action_type: Mapped[str] = mapped_column(sa.String(64))
    description: Mapped[str] = mapped_column(sa.Text)
    executed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(sa.String(32))
    result: Mapped[str | None] = mapped_column(sa.Text)


class IncidentAlert(Base):
    """A message the protocol sends to a person or service; delivery moves it on from ``pending``."""

    __tablename__ = "incident_alerts"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[str] = mapped_column(
        sa.ForeignKey("incidents.incident_id", ondelete="CASCADE"), index=True
    )
    action_type: Mapped[str] = mapped_column(sa.String(64))
    alert_type: Mapped[str] = mapped_column(sa.String(64))
    recipient: Mapped[str] = mapped_column(sa.String(200))
    message: Mapped[str] = mapped_column(sa.Text)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(sa.String(32), default=ALERT_PENDING, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)


class IncidentEvent(Base):
    """One entry of an incident's timeline: a change, a note, an escalation; written with the change."""

    __tablename__ = "incident_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[str] = mapped_column(
        sa.ForeignKey("incidents.incident_id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(sa.String(32))
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    details: Mapped[dict[str, Any]] = mapped_column(JSONType)


class ShareLink(Base):
    """A live-location link for the protected person's contacts; only the token's SHA-256 is stored."""

    __tablename__ = "share_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    incident_id: Mapped[str] = mapped_column(
        sa.ForeignKey("incidents.incident_id", ondelete="CASCADE"), index=True
    )
    owner_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ReportGrouping(StrEnum):
    """What a repeated report from the same source did to the open incident it was grouped into."""

    attached = "attached"
    escalated = "escalated"
