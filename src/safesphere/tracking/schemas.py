"""Request and response bodies of the tourist's location API (the Safety Score API document)."""

from __future__ import annotations

from datetime import datetime

from pydantic import AliasChoices, BaseModel, ConfigDict, EmailStr, Field, model_validator

from safesphere.core.params import Instant


class LocationIn(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    lat: float = Field(
        ge=-90, le=90, strict=True, allow_inf_nan=False, validation_alias=AliasChoices("lat", "latitude")
    )
    lon: float = Field(
        ge=-180, le=180, strict=True, allow_inf_nan=False, validation_alias=AliasChoices("lon", "longitude")
    )
    altitude: float | None = Field(default=None, ge=-1000, le=20000, strict=True)
    speed: float | None = Field(default=None, ge=0, le=1000, strict=True, description="m/s")
    accuracy: float | None = Field(default=None, ge=0, le=100_000, strict=True, description="metres")
    timestamp: Instant


class FactorOut(BaseModel):
    name: str
    score: float
    weight: float
    contribution: float
    details: str


class AiAnalysis(BaseModel):
    factors: list[FactorOut]
    recommendations: list[str]


class LocationUpdateOut(BaseModel):
    status: str = "success"
    location_id: int
    location_safety_score: float
    tourist_safety_score: float
    risk_level: str = Field(description="The location score's band (location_risk_level).")
    location_risk_level: str = Field(description="The band of the location safety score (alerts follow it).")
    tourist_risk_level: str = Field(description="The band of the blended tourist safety score.")
    ai_analysis: AiAnalysis
    alert_triggered: bool
    alert_id: int | None


class HistoryItem(BaseModel):
    id: int
    lat: float
    lon: float
    speed: float | None
    altitude: float | None
    accuracy: float | None
    timestamp: datetime
    safety_score: float | None
    safety_score_updated_at: datetime | None


class Point(BaseModel):
    lat: float
    lon: float


class TrendPoint(BaseModel):
    timestamp: datetime
    safety_score: float
    risk_level: str
    location_risk_level: str = Field(description="safety_score and risk_level are the location score's.")
    location: Point


class TrendStatistics(BaseModel):
    average_score: float
    min_score: float
    max_score: float
    current_score: float
    score_volatility: float


class TrendOut(BaseModel):
    hours_back: int
    data_points: int
    trend: list[TrendPoint]
    statistics: TrendStatistics | None


class AnalysisLocation(BaseModel):
    id: int
    lat: float
    lon: float
    timestamp: datetime


class TouristProfileSummary(BaseModel):
    id: int
    overall_safety_score: float | None
    last_seen: datetime | None


class SafetyAnalysisOut(BaseModel):
    location: AnalysisLocation
    safety_score: float
    risk_level: str = Field(description="The location score's band (location_risk_level).")
    location_risk_level: str
    tourist_risk_level: str | None = Field(description="The band of the tourist's current blended score.")
    factors: list[FactorOut]
    recommendations: list[str]
    tourist_profile: TouristProfileSummary


class CurrentLocation(BaseModel):
    lat: float
    lon: float
    safety_score: float | None
    timestamp: datetime


class NearbyAlert(BaseModel):
    """A risk near the tourist. Another tourist's alert shows only its type, severity, a generic title and
    an approximate place: never their message, name, contact or exact track."""

    alert_id: int
    type: str
    severity: str
    title: str
    description: str
    distance_km: float
    location: Point
    timestamp: datetime
    report_count: int = Field(
        description="How many reports the incident has (its own and those grouped into it); 1 for others."
    )


class NearbyZone(BaseModel):
    zone_id: int
    name: str
    type: str
    distance_km: float
    radius_km: float
    center: Point
    is_inside: bool


class RiskSummary(BaseModel):
    total_alerts: int
    critical_alerts: int
    high_alerts: int
    risky_zones_nearby: int
    inside_risky_zone: bool


class NearbyRisksOut(BaseModel):
    current_location: CurrentLocation
    search_radius_km: float
    nearby_alerts: list[NearbyAlert]
    nearby_risky_zones: list[NearbyZone]
    risk_summary: RiskSummary


class SafetyScoreOut(BaseModel):
    safety_score: float = Field(description="The blended tourist safety score.")
    risk_level: str = Field(description="The tourist score's band (tourist_risk_level).")
    last_updated: datetime
    location_safety_score: float = Field(description="The latest fix's location score (alerts follow it).")
    location_risk_level: str = Field(description="The band of the location safety score (alerts follow it).")
    tourist_risk_level: str = Field(description="The band of the blended tourist safety score.")


class ProfileOut(BaseModel):
    id: int
    email: str
    name: str | None
    phone: str | None
    preferred_language: str | None


class ProfileIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=40, pattern=r"^\+?[0-9 ()\-.]{3,40}$")
    preferred_language: str | None = Field(default=None, pattern=r"^[a-z]{2}(-[A-Za-z]{2})?$")


class ContactIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    relation: str | None = Field(default=None, max_length=100)
    phone: str | None = Field(default=None, max_length=40, pattern=r"^\+?[0-9 ()\-.]{3,40}$")
    email: EmailStr | None = None

    @model_validator(mode="after")
    def _reachable(self) -> ContactIn:
        if self.phone is None and self.email is None:
            raise ValueError("an emergency contact needs a phone or an email")
        return self


class ContactOut(BaseModel):
    id: int
    name: str
    relation: str | None
    phone: str | None
    email: str | None
    created_at: datetime
