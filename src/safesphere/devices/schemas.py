"""Device commands as the engine sees them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel


class CommandOut(BaseModel):
    command_id: int
    incident_id: str
    type: str
    params: dict[str, Any]
    status: str
    created_at: datetime


class CommandListOut(BaseModel):
    count: int
    commands: list[CommandOut]
