"""Tourists' location fixes, their current status, and their emergency contacts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from safesphere.core import clock
from safesphere.core.db import Base, JSONType, UTCDateTime, grid_cell_column
from safesphere.core.encryption import EncryptedText


class LocationFix(Base):
    __tablename__ = "location_fixes"
    __table_args__ = (
        # With the score: a tourist's 30-day average reads only the index.
        sa.Index("ix_location_fixes_tourist_time", "tourist_id", "timestamp", "safety_score"),
        sa.Index("ix_location_fixes_time_lat_lon", "timestamp", "latitude", "longitude"),
        sa.Index("ix_location_fixes_cell_time", "cell", "timestamp"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tourist_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    latitude: Mapped[float]
    longitude: Mapped[float]
    cell: Mapped[int] = grid_cell_column()
    altitude: Mapped[float | None]
    speed: Mapped[float | None]
    accuracy: Mapped[float | None]
    timestamp: Mapped[datetime] = mapped_column(UTCDateTime)
    safety_score: Mapped[float | None]
    tourist_safety_score: Mapped[float | None]
    risk_level: Mapped[str | None] = mapped_column(sa.String(16))
    factors: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONType)
    safety_score_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)


class TouristStatus(Base):
    """Each tourist's latest position and scores, so monitoring is one query."""

    __tablename__ = "tourist_status"
    __table_args__ = (sa.Index("ix_tourist_status_lat_lon", "latitude", "longitude"),)

    tourist_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    last_fix_id: Mapped[int] = mapped_column(sa.ForeignKey("location_fixes.id", ondelete="CASCADE"))
    latitude: Mapped[float]
    longitude: Mapped[float]
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime)
    location_safety_score: Mapped[float]
    tourist_safety_score: Mapped[float]
    risk_level: Mapped[str] = mapped_column(sa.String(16), index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now, onupdate=clock.now)


class EmergencyContact(Base):
    __tablename__ = "emergency_contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    relation: Mapped[str | None] = mapped_column(sa.String(100))
    phone: Mapped[str | None] = mapped_column(EncryptedText)
    """Encrypted at rest (``core/encryption.py``), like ``email``."""
    email: Mapped[str | None] = mapped_column(EncryptedText)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
