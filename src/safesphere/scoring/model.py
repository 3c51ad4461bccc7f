"""What the score is computed from and what it returns: plain data, no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from safesphere.scoring import constants as c


@dataclass(frozen=True)
class Fix:
    """One location fix of the tourist being scored."""

    lat: float
    lon: float
    timestamp: datetime
    speed_mps: float | None = None
    accuracy_m: float | None = None
    altitude_m: float | None = None


@dataclass(frozen=True)
class AlertObservation:
    """An alert or located incident near the fix: where, how bad, when."""

    lat: float
    lon: float
    severity: str
    occurred_at: datetime
    alert_id: int | None = None
    type: str = "incident"


@dataclass(frozen=True)
class ZoneProximity:
    """A zone's relation to the fix: inside it, or how far from its edge and in which direction."""

    zone_id: int
    name: str
    type: str
    inside: bool
    distance_km: float
    bearing_deg: float | None = None


@dataclass(frozen=True)
class PreviousFix:
    lat: float
    lon: float
    timestamp: datetime
    speed_mps: float | None = None
    accuracy_m: float | None = None


@dataclass(frozen=True)
class ScoringInput:
    """Everything known as of the fix's time; nothing after it."""

    fix: Fix
    nearby_alerts: list[AlertObservation] = field(default_factory=list)
    historical_alerts: list[AlertObservation] = field(default_factory=list)
    zones: list[ZoneProximity] = field(default_factory=list)
    tourists_nearby: int = 0
    previous_fix: PreviousFix | None = None
    recent_speeds_mps: list[float] = field(default_factory=list)
    max_ground_speed_mps: float = c.MAX_GROUND_SPEED_KMH / 3.6
    """The fastest plausible ground travel (setting ``max_ground_speed_kmh``)."""
    clock_skew_tolerance_s: float = 0.0
    """How far after the fix an alert's event time may lie and still count (setting
    ``clock_skew_tolerance_s``); the gatherer leaves out those received after the fix."""


class FactorResult(NamedTuple):
    """One factor's score and sentence. Named tuples, like the weighted factors: every fix makes twelve,
    and a frozen dataclass costs several times more to build."""

    name: str
    score: float
    details: str
    facts: dict[str, object]
    """Machine-readable facts behind the details, for recommendations and translation."""


class WeightedFactor(NamedTuple):
    name: str
    score: float
    weight: float
    contribution: float
    details: str
    facts: dict[str, object]


@dataclass(frozen=True)
class Assessment:
    location_safety_score: float
    risk_level: str
    factors: list[WeightedFactor]
