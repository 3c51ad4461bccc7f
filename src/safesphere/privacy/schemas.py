"""The tourist's data export and the account deletion request."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from safesphere.alerts.schemas import AlertOut
from safesphere.privacy.service import TouristExport


class _Rows(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class ExportedProfile(_Rows):
    id: int
    email: str
    name: str | None
    phone: str | None
    preferred_language: str | None
    role: str
    created_at: datetime


class ExportedContact(_Rows):
    id: int
    name: str
    relation: str | None
    phone: str | None
    email: str | None
    created_at: datetime


class ExportedFix(_Rows):
    id: int
    latitude: float
    longitude: float
    altitude: float | None
    speed: float | None
    accuracy: float | None
    timestamp: datetime
    safety_score: float | None
    tourist_safety_score: float | None
    risk_level: str | None
    factors: list[dict[str, Any]] | None


class ExportedStatus(_Rows):
    latitude: float
    longitude: float
    last_seen: datetime
    location_safety_score: float
    tourist_safety_score: float
    risk_level: str


class ExportedIncident(_Rows):
    incident_id: str
    timestamp: datetime
    threat_level: str
    status: str


class ExportedShare(_Rows):
    incident_id: str
    created_at: datetime
    expires_at: datetime | None


class TouristExportOut(BaseModel):
    """Everything SafeSphere holds about you: profile, location fixes with their safety scores, current
    status, emergency contacts, alerts you raised or received, incidents where you were the protected
    person, and live-location links shared with your contacts."""

    exported_at: datetime
    profile: ExportedProfile
    status: ExportedStatus | None
    fixes: list[ExportedFix]
    contacts: list[ExportedContact]
    alerts: list[AlertOut]
    incidents: list[ExportedIncident]
    shares: list[ExportedShare]

    @classmethod
    def from_export(cls, found: TouristExport) -> TouristExportOut:
        return cls(
            exported_at=found.exported_at,
            profile=ExportedProfile.model_validate(found.user),
            status=ExportedStatus.model_validate(found.status) if found.status is not None else None,
            fixes=[ExportedFix.model_validate(f) for f in found.fixes],
            contacts=[ExportedContact.model_validate(c) for c in found.contacts],
            alerts=[AlertOut.from_alert(a) for a in found.alerts],
            incidents=[ExportedIncident.model_validate(i) for i in found.incidents],
            shares=[ExportedShare.model_validate(s) for s in found.shares],
        )


class AccountDeleteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    password: str = Field(min_length=1, max_length=200, description="Your current password, to confirm.")
