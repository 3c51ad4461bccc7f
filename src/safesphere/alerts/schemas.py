"""Request and response bodies of the alerts API."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from safesphere.alerts.models import Alert, AlertStatus, AlertType, Severity


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
    updated_at: datetime = Field(
        description="Its last change: of two copies of an alert (a list, a live event), the later "
        "updated_at is the newer state."
    )

    @classmethod
    def from_alert(cls, alert: Alert) -> AlertOut:
        return cls(
            alert_id=alert.id,
            type=AlertType(alert.type),
            severity=Severity(alert.severity),
            title=alert.title,
            description=alert.description,
            location=AlertLocation(lat=alert.latitude, lon=alert.longitude),
            timestamp=alert.occurred_at,
            status=AlertStatus(alert.status),
            tourist_id=alert.tourist_id,
            incident_id=alert.incident_id,
            acknowledged_by=alert.acknowledged_by,
            acknowledged_at=alert.acknowledged_at,
            resolved_by=alert.resolved_by,
            resolved_at=alert.resolved_at,
            resolution_notes=alert.resolution_notes,
            updated_at=alert.updated_at,
        )


class ResolveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outcome: Literal["resolved", "false_alarm"] = Field(
        default="resolved", description="false_alarm: the alert counts in no safety score any more."
    )
    notes: str | None = Field(default=None, max_length=4000)


class SosIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lat: float | None = Field(default=None, ge=-90, le=90, strict=True, allow_inf_nan=False)
    lon: float | None = Field(default=None, ge=-180, le=180, strict=True, allow_inf_nan=False)
    message: str | None = Field(default=None, max_length=1000)
