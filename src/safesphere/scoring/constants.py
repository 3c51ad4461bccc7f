"""Every number the safety score uses, each with why. docs/SCORING.md quotes them."""

from __future__ import annotations

from datetime import timedelta

DEFAULT_WEIGHTS: dict[str, float] = {
    "nearby_alerts": 0.30,
    "zone_risk": 0.25,
    "time_of_day": 0.15,
    "crowd_density": 0.10,
    "speed_anomaly": 0.10,
    "historical_risk": 0.10,
}
"""The Safety Score API document's weights; configurable, validated to sum to 1."""

FACTOR_NAMES = tuple(DEFAULT_WEIGHTS)

# --- nearby_alerts ---
NEARBY_ALERT_RADIUS_KM = 2.0
"""The document's radius for recent incidents."""
NEARBY_ALERT_WINDOW = timedelta(hours=6)
"""The document's window for recent incidents."""
NEARBY_SEVERITY_PENALTY: dict[str, float] = {"critical": 40.0, "high": 25.0, "medium": 12.0, "low": 5.0}
"""Points one fresh alert at the tourist's feet removes; two fresh critical alerts alone reach near zero."""
NEARBY_MIN_INFLUENCE = 0.5
"""An alert at the edge of the radius or window still counts half: it is nearby and recent by definition."""

NOT_COUNTED_ALERT_TYPES = ("anomaly", "warning")
"""Alert types no score counts: an anomaly alert is a signal to the police about one person (derived from
a score, it would feed every score around it), a warning is a copy of an incident addressed to one
tourist. Incidents, SOS and alerts of any other type (authority-created ones) count."""
NOT_COUNTED_ALERT_STATUSES = ("false_alarm",)
"""A false alarm counts in no score from the moment it is marked (nearby and history)."""

# --- zone_risk ---
ZONE_SCORE_OUTSIDE = 80.0
"""Ordinary ground: no zone says anything about it."""
ZONE_SCORE_INSIDE: dict[str, float] = {"restricted": 10.0, "risky": 25.0}
"""Standing in a restricted zone is the worst zone situation; a risky zone slightly less so."""
ZONE_SCORE_SAFE = 100.0
"""Inside a safe zone and near no risky or restricted zone."""
ZONE_APPROACH_KM = 1.0
"""Within this distance of a risky/restricted zone's edge the score falls linearly to the inside score."""

# --- time_of_day ---
TIME_SCORE_DAYLIGHT = 90.0
TIME_SCORE_TWILIGHT = 70.0
TIME_SCORE_NIGHT = 55.0
TIME_SCORE_LATE_NIGHT = 35.0
"""Daylight is safest; civil twilight less; night less; 23:00-05:00 local is the highest-risk period."""
LATE_NIGHT_START_HOUR = 23
LATE_NIGHT_END_HOUR = 5

# --- crowd_density ---
CROWD_RADIUS_KM = 1.0
CROWD_WINDOW = timedelta(minutes=30)
"""Another tourist counts if their latest fix in the last 30 minutes is within 1 km."""
CROWD_SCORE_ALONE = 40.0
"""Nobody around at night or inside a risky/restricted zone: isolation there is a risk, not a certainty."""
CROWD_SCORE_NEUTRAL = 70.0
"""Nobody around in daylight outside risky zones: few app users is no evidence of an empty street, so the
score stays neutral (at LOW_FACTOR_SCORE: no advice) and only people around raise it."""
CROWD_PLATEAU = 20
"""From 20 tourists on, more people add no more safety."""

# --- speed_anomaly ---
MAX_GROUND_SPEED_KMH = 350.0
"""High-speed rail's top speed (the setting ``max_ground_speed_kmh``): faster on the ground is a broken or
spoofed fix."""
AIRCRAFT_MIN_ALTITUDE_M = 6000.0
"""Higher than any town (La Rinconada, 5,100 m): a fix up there may be on an aircraft."""
AIRCRAFT_MAX_KMH = 1100.0
"""An airliner's cruise with a jet-stream tailwind: the limit for a fix at aircraft altitude."""
SPEED_VEHICLE_MPS = 15.0
"""54 km/h: a vehicle, not walking; normal for tourists but worth a small note."""
SPEED_STOP_MPS = 0.5
"""Below this a tourist is standing still."""
SPEED_MIN_INTERVAL_S = 1.0
"""Fixes closer in time than this give no meaningful implied speed."""
SPEED_SCORE_NORMAL = 100.0
SPEED_SCORE_VEHICLE = 80.0
"""Any vehicle up to the ground limit, and any change of mode (walk, bus, walk): not an anomaly."""
SPEED_SCORE_SUDDEN_STOP = 50.0
"""A stop after vehicle speed, at night inside a risky or restricted zone: a car pulled over where harm is
likely (the one movement pattern that says danger)."""
SPEED_SCORE_IMPLAUSIBLE = 10.0
"""A jump no vehicle could make: the fix is broken or spoofed, so nothing about it can be trusted."""

# --- historical_risk ---
HISTORY_RADIUS_KM = 1.0
HISTORY_WINDOW = timedelta(days=30)
HISTORY_SEVERITY_PENALTY: dict[str, float] = {"critical": 15.0, "high": 10.0, "medium": 5.0, "low": 2.0}
"""Past incidents weigh less than fresh ones: a street's history, not an ongoing emergency."""

# --- blend, levels, alerts ---
TOURIST_BLEND_LOCATION = 0.7
"""tourist_safety_score = 0.7 x location score + 0.3 x the tourist's 30-day average (the document's blend)."""
TOURIST_HISTORY_WINDOW = timedelta(days=30)
RISK_LEVEL_FLOORS: tuple[tuple[float, str], ...] = (
    (80.0, "low"),
    (60.0, "medium"),
    (40.0, "high"),
    (0.0, "critical"),
)
"""The document's bands: low 80-100, medium 60-79, high 40-59, critical 0-39."""
SEVERITY_ORDER = ("low", "medium", "high", "critical")
