"""The units registry and the assignments of units to incidents."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from safesphere.core import clock
from safesphere.core.db import Base, UTCDateTime


class UnitType(StrEnum):
    patrol_car = "patrol_car"
    motorcycle = "motorcycle"
    bicycle = "bicycle"
    foot_patrol = "foot_patrol"
    ambulance = "ambulance"
    fire_engine = "fire_engine"
    other = "other"


class UnitStatus(StrEnum):
    available = "available"
    dispatched = "dispatched"
    """Set by a dispatch, never by hand; back to available when its last incident closes."""
    busy = "busy"
    off = "off"


class Unit(Base):
    """A unit that can be sent to an incident; its last known position is optional."""

    __tablename__ = "units"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100), unique=True)
    type: Mapped[str] = mapped_column(sa.String(32))
    status: Mapped[str] = mapped_column(sa.String(16), index=True)
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    position_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now, onupdate=clock.now)


class UnitAssignment(Base):
    """A unit sent to an incident; ``released_at`` is set when the incident closes. The incident's id is
    the only thing this domain knows of incidents (the foreign key lets retention's delete cascade)."""

    __tablename__ = "unit_assignments"
    __table_args__ = (sa.Index("ix_unit_assignments_unit_released", "unit_id", "released_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("units.id", ondelete="CASCADE"))
    incident_id: Mapped[str] = mapped_column(
        sa.ForeignKey("incidents.incident_id", ondelete="CASCADE"), index=True
    )
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime)
    assigned_by: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
