"""Device commands as the engine sees them."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

if TYPE_CHECKING:
    from safesphere.devices.models import DeviceCommand


class CommandOut(BaseModel):
    command_id: int
    incident_id: str
    type: str
    params: dict[str, Any]
    status: str
    created_at: datetime

    @classmethod
    def from_command(cls, command: DeviceCommand) -> CommandOut:
        return cls(
            command_id=command.id,
            incident_id=command.incident_id,
            type=command.type,
            params=dict(command.params),
            status=command.status,
            created_at=command.created_at,
        )


class CommandListOut(BaseModel):
    count: int
    commands: list[CommandOut]
