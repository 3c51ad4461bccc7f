"""The audit log's one table: rows are only ever inserted (the database refuses UPDATE and DELETE)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from safesphere.core.db import Base, JSONType, UTCDateTime


class AuditAction(StrEnum):
    """What was done. Dotted names group by the record acted on, so a prefix filter reads one kind."""

    login = "auth.login"
    login_failed = "auth.login_failed"
    user_created = "user.created"
    user_updated = "user.updated"
    """An admin (or the operator's command line) changed a role, (de)activated, or reset a password."""
    account_deleted = "user.deleted"
    data_exported = "user.exported"
    key_created = "engine_key.created"
    key_revoked = "engine_key.revoked"
    incident_acknowledged = "incident.acknowledged"
    incident_dispatched = "incident.dispatched"
    incident_resolved = "incident.resolved"
    incident_false_alarm = "incident.false_alarm"
    legal_hold_placed = "incident.legal_hold_placed"
    legal_hold_released = "incident.legal_hold_released"
    alert_acknowledged = "alert.acknowledged"
    alert_resolved = "alert.resolved"
    evidence_downloaded = "evidence.downloaded"
    zone_created = "zone.created"
    zone_updated = "zone.updated"
    zone_deleted = "zone.deleted"
    zones_imported = "zone.imported"
    unit_created = "unit.created"
    unit_updated = "unit.updated"
    unit_deleted = "unit.deleted"


class AuditEntry(Base):
    """One audited action. ``actor_id`` and ``target_id`` are plain values, not foreign keys: an entry
    outlives the account and the record it names (a deleted account's entries keep its number)."""

    __tablename__ = "audit_log"
    __table_args__ = (
        sa.Index("ix_audit_log_action_at", "action", "at"),
        sa.Index("ix_audit_log_actor_at", "actor_id", "at"),
        sa.Index("ix_audit_log_target", "target_type", "target_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    action: Mapped[str] = mapped_column(sa.String(64))
    actor_id: Mapped[int | None]
    """The user who acted; None for the operator's command line, an anonymous caller or the server."""
    target_type: Mapped[str | None] = mapped_column(sa.String(32))
    target_id: Mapped[str | None] = mapped_column(sa.String(100))
    address: Mapped[str | None] = mapped_column(sa.String(64))
    """The client address, where the action came over HTTP and the address matters (logins)."""
    details: Mapped[dict[str, Any]] = mapped_column(JSONType)
