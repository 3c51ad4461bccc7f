"""Geofences: safe, restricted and risky zones, as circles or polygons."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from safesphere.core import clock
from safesphere.core.db import Base, JSONType, UTCDateTime


class ZoneType(StrEnum):
    safe = "safe"
    restricted = "restricted"
    risky = "risky"


class Zone(Base):
    __tablename__ = "zones"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    type: Mapped[str] = mapped_column(sa.String(16))
    center_lat: Mapped[float]
    center_lon: Mapped[float]
    radius_km: Mapped[float]
    """A circle's radius; for a polygon, the distance from its centre to its farthest vertex."""
    polygon: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    """A GeoJSON Polygon, or None for a circle."""
    created_by: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=clock.now, onupdate=clock.now, index=True
    )
    """Indexed: the zone index's version check (every location update) reads its max."""
