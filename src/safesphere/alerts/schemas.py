"""Request and response bodies of the alerts API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from safesphere.alerts.models import AlertStatus, AlertType, Severity


class AlertLocation(BaseModel):
    lat: float
    lon: float


class AlertOut(BaseModel):
    alert_id: int
    type: AlertType
    severity: Severity
    title: str
    description: str
    location: AlertLocation
    timestamp: datetime
    status: AlertStatus
    tourist_id: int | None
    incident_id: str | None
    acknowledged_by: int | None
    acknowledged_at: datetime | None
    resolved_by: int | None
    resolved_at: datetime | None
    resolution_notes: str | None


class ResolveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    notes: str | None = Field(default=None, max_length=4000)


class SosIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    message: str | None = Field(default=None, max_length=1000)
