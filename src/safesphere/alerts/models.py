"""Safety alerts: a tourist's anomaly or SOS, and located threat incidents."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from safesphere.core import clock
from safesphere.core.db import Base, UTCDateTime, grid_cell_column


class AlertType(StrEnum):
    anomaly = "anomaly"
    sos = "sos"
    incident = "incident"
    warning = "warning"
    """A warning to one tourist about a threat reported near them (a copy of an incident alert: never
    counted again by the score)."""


class Severity(StrEnum):
    low = "low"
    medium = "medium"
    high = "high"
    critical = "critical"


class AlertStatus(StrEnum):
    open = "open"
    acknowledged = "acknowledged"
    resolved = "resolved"
    false_alarm = "false_alarm"
    """Closed as a false alarm: counts in no score, nearby or history."""


class Alert(Base):
    __tablename__ = "alerts"
    __table_args__ = (
        sa.Index("ix_alerts_time_lat_lon", "occurred_at", "latitude", "longitude"),
        # Covering: a fix's alerts-around query reads only this index, however many alerts there are.
        sa.Index(
            "ix_alerts_cell_time",
            "cell",
            "occurred_at",
            "latitude",
            "longitude",
            "type",
            "tourist_id",
            "severity",
            "status",
            "resolved_at",
            "id",
            "created_at",  # a skewed event counts only if received before the fix (index-only too)
        ),
        sa.Index("ix_alerts_tourist_type_time", "tourist_id", "type", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    type: Mapped[str] = mapped_column(sa.String(16))
    severity: Mapped[str] = mapped_column(sa.String(16))
    title: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text)
    latitude: Mapped[float]
    longitude: Mapped[float]
    cell: Mapped[int] = grid_cell_column()
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(sa.String(16), default=AlertStatus.open.value, index=True)
    tourist_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    incident_id: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    report_count: Mapped[int] = mapped_column(default=1, server_default="1")
    """An incident's alert: how many reports its case has (its own and the grouped ones); else 1."""
    acknowledged_by: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolution_notes: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=clock.now, onupdate=clock.now, index=True
    )
    """Its last change (the live feed sends alerts changed since a moment)."""
