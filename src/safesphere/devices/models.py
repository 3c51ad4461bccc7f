"""Instructions to a reporting device (record, speak, stream its location), fetched by the engine."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from safesphere.core.db import Base, JSONType, UTCDateTime


class CommandStatus(StrEnum):
    pending = "pending"
    delivered = "delivered"
    acknowledged = "acknowledged"


class DeviceCommand(Base):
    __tablename__ = "device_commands"
    __table_args__ = (sa.Index("ix_device_commands_key_status", "engine_key_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    engine_key_id: Mapped[int] = mapped_column(sa.ForeignKey("engine_keys.id", ondelete="CASCADE"))
    incident_id: Mapped[str] = mapped_column(
        sa.ForeignKey("incidents.incident_id", ondelete="CASCADE"), index=True
    )
    type: Mapped[str] = mapped_column(sa.String(32))
    params: Mapped[dict[str, Any]] = mapped_column(JSONType)
    status: Mapped[str] = mapped_column(sa.String(16), default=CommandStatus.pending.value)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
