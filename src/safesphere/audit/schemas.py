"""The audit log over HTTP."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


class AuditEntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    action: str
    actor_id: int | None
    target_type: str | None
    target_id: str | None
    address: str | None
    details: dict[str, Any]
