"""Request and response bodies of the units API."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from safesphere.core.params import Latitude, Longitude
from safesphere.units.models import UnitStatus, UnitType

StatusByHand = Literal["available", "busy", "off"]
"""What an officer may set; ``dispatched`` comes from dispatching the unit to an incident."""


class Position(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lat: Latitude
    lon: Longitude


class UnitIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100, description="Unique, e.g. 'Patrol 12'.")
    type: UnitType
    status: StatusByHand = "available"
    position: Position | None = Field(default=None, description="Its last known position.")


class UnitPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=100)
    type: UnitType | None = None
    status: StatusByHand | None = Field(
        default=None, description="Set by hand; a busy or off unit stays so when its incidents close."
    )
    position: Position | None = Field(default=None, description="Its new position (null clears it).")


class PositionOut(BaseModel):
    lat: float
    lon: float
    at: datetime | None = Field(description="When the position was set.")


class UnitOut(BaseModel):
    id: int
    name: str
    type: UnitType
    status: UnitStatus
    position: PositionOut | None
    incident_ids: list[str] = Field(description="The open incidents it is dispatched to.")
    created_at: datetime
    updated_at: datetime


class UnitListOut(BaseModel):
    count: int
    units: list[UnitOut]
