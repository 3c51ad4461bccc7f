"""The six factors of the safety score. Each returns a 0-100 score (higher = safer) and a sentence."""

from __future__ import annotations

import math
import statistics
from datetime import datetime
from functools import cache, lru_cache
from zoneinfo import ZoneInfo

from timezonefinder import TimezoneFinder

from safesphere.geo import EARTH_RADIUS_KM, haversine_km
from safesphere.scoring import constants as c
from safesphere.scoring.model import AlertObservation, FactorResult, Fix, PreviousFix, ZoneProximity
from safesphere.scoring.sun import elevation as sun_elevation

SUN_HORIZON_DEG = -0.833
"""The sun's centre at this elevation is sunrise/sunset (refraction plus the sun's radius)."""
CIVIL_TWILIGHT_DEG = -6.0


def _clamp(score: float) -> float:
    return max(0.0, min(100.0, score))


def _influence(fraction_of_limit: float) -> float:
    """1 at the centre (or now), NEARBY_MIN_INFLUENCE at the limit, linear between."""
    fraction = max(0.0, min(1.0, fraction_of_limit))
    return 1.0 - (1.0 - c.NEARBY_MIN_INFLUENCE) * fraction


def _worst(severities: list[str]) -> str:
    return max(severities, key=c.SEVERITY_ORDER.index)


class _DistancesFrom:
    """Great-circle km from one point, exactly as ``geo.haversine_km`` computes them (the same
    operations on the same terms), the point's own trigonometry done once for all its alerts."""

    __slots__ = ("cos_phi", "lon", "phi")

    def __init__(self, lat: float, lon: float) -> None:
        self.lon, self.phi = lon, math.radians(lat)
        self.cos_phi = math.cos(self.phi)

    def km(self, lat: float, lon: float) -> float:
        phi2 = math.radians(lat)
        a = (
            math.sin((phi2 - self.phi) / 2) ** 2
            + self.cos_phi * math.cos(phi2) * math.sin(math.radians(lon - self.lon) / 2) ** 2
        )
        return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


_NEARBY_WINDOW_S = c.NEARBY_ALERT_WINDOW.total_seconds()
_HISTORY_WINDOW_S = c.HISTORY_WINDOW.total_seconds()


def nearby_alerts(fix: Fix, alerts: list[AlertObservation], skew_tolerance_s: float = 0.0) -> FactorResult:
    """Alerts within 2 km in the 6 hours before the fix (up to ``skew_tolerance_s`` after it: clocks
    differ), weighted by severity, closeness and recency."""
    counted: list[AlertObservation] = []
    penalty = 0.0
    here = _DistancesFrom(fix.lat, fix.lon)
    for alert in alerts:
        age = (fix.timestamp - alert.occurred_at).total_seconds()
        if age < -skew_tolerance_s or age > _NEARBY_WINDOW_S or alert.type in c.NOT_COUNTED_ALERT_TYPES:
            continue
        distance = here.km(alert.lat, alert.lon)
        if distance > c.NEARBY_ALERT_RADIUS_KM:
            continue
        counted.append(alert)
        penalty += (
            c.NEARBY_SEVERITY_PENALTY.get(alert.severity, c.NEARBY_SEVERITY_PENALTY["low"])
            * _influence(distance / c.NEARBY_ALERT_RADIUS_KM)
            * _influence(age / _NEARBY_WINDOW_S)
        )
    if not counted:
        return FactorResult("nearby_alerts", 100.0, "No alerts within 2km in last 6 hours", {"count": 0})
    worst = _worst([a.severity for a in counted])
    noun = "alert" if len(counted) == 1 else "alerts"
    return FactorResult(
        "nearby_alerts",
        _clamp(100.0 - penalty),
        f"{len(counted)} {noun} within 2km in last 6 hours (worst: {worst})",
        {"count": len(counted), "worst": worst},
    )


def zone_score(zone_type: str, inside: bool, distance_km: float) -> float | None:
    """What one zone makes of the spot: its inside score in a restricted/risky zone, rising linearly to
    ZONE_SCORE_OUTSIDE at ZONE_APPROACH_KM from its edge; None for a safe zone or one too far away."""
    inside_score = c.ZONE_SCORE_INSIDE.get(zone_type)
    if inside_score is None:
        return None
    if inside:
        return inside_score
    if distance_km < c.ZONE_APPROACH_KM:
        return inside_score + (c.ZONE_SCORE_OUTSIDE - inside_score) * distance_km / c.ZONE_APPROACH_KM
    return None


def zone_risk(zones: list[ZoneProximity]) -> FactorResult:
    """Inside a restricted/risky zone scores low, approaching one lowers the score smoothly, a safe zone
    raises it only when no risk applies. The worst zone wins, so order never matters."""
    worst_score, worst_zone = c.ZONE_SCORE_OUTSIDE, None
    for zone in sorted(zones, key=lambda z: (z.distance_km, not z.inside, z.zone_id)):
        score = zone_score(zone.type, zone.inside, zone.distance_km)
        if score is not None and score < worst_score:
            worst_score, worst_zone = score, zone
    if worst_zone is not None:
        facts: dict[str, object] = {
            "zone": worst_zone.name,
            "zone_type": worst_zone.type,
            "inside": worst_zone.inside,
            "distance_km": round(worst_zone.distance_km, 2),
            "bearing_deg": worst_zone.bearing_deg,
        }
        if worst_zone.inside:
            return FactorResult(
                "zone_risk", worst_score, f"Inside {worst_zone.type} zone '{worst_zone.name}'", facts
            )
        return FactorResult(
            "zone_risk",
            round(worst_score, 2),
            f"{worst_zone.distance_km:.1f}km from {worst_zone.type} zone '{worst_zone.name}'",
            facts,
        )
    safe = [z for z in zones if z.type == "safe" and z.inside]
    if safe:
        name = min(safe, key=lambda z: z.zone_id).name
        return FactorResult("zone_risk", c.ZONE_SCORE_SAFE, f"Inside safe zone '{name}'", {"safe_zone": name})
    return FactorResult("zone_risk", c.ZONE_SCORE_OUTSIDE, "No restricted or risky zone within 1km", {})


@lru_cache(maxsize=1)
def _timezone_finder() -> TimezoneFinder:
    return TimezoneFinder()


@lru_cache(maxsize=4096)
def _zone_name(lat: float, lon: float) -> str:
    return _timezone_finder().timezone_at(lng=lon, lat=lat) or "UTC"


@cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def local_time(lat: float, lon: float, when: datetime) -> datetime:
    """The wall-clock time at the coordinates (time zone from the coordinates, not the client)."""
    return when.astimezone(_zone(_zone_name(round(lat, 3), round(lon, 3))))


def time_of_day(fix: Fix) -> FactorResult:
    """Daylight from the sun's elevation at that place and moment; late night 23:00-05:00 local is worst."""
    local = local_time(fix.lat, fix.lon, fix.timestamp)
    clock_text = f"{local.hour:02d}:{local.minute:02d}"
    sun = sun_elevation(fix.lat, fix.lon, fix.timestamp)
    facts: dict[str, object] = {"local_time": clock_text, "sun_elevation_deg": round(sun, 1)}
    if sun > SUN_HORIZON_DEG:
        return FactorResult(
            "time_of_day", c.TIME_SCORE_DAYLIGHT, f"Daytime ({clock_text} local) - safer period", facts
        )
    if sun > CIVIL_TWILIGHT_DEG:
        return FactorResult(
            "time_of_day", c.TIME_SCORE_TWILIGHT, f"Twilight ({clock_text} local) - fading light", facts
        )
    if local.hour >= c.LATE_NIGHT_START_HOUR or local.hour < c.LATE_NIGHT_END_HOUR:
        return FactorResult(
            "time_of_day",
            c.TIME_SCORE_LATE_NIGHT,
            f"Late night ({clock_text} local) - highest-risk period",
            facts,
        )
    return FactorResult(
        "time_of_day", c.TIME_SCORE_NIGHT, f"Night ({clock_text} local) - reduced safety", facts
    )


def crowd_density(tourists_nearby: int, empty_is_risk: bool) -> FactorResult:
    """More people is safer, up to a plateau. Nobody around lowers the score only where emptiness is a
    risk (``empty_is_risk``: night, or inside a risky zone); elsewhere few app users says nothing."""
    n = max(0, tourists_nearby)
    floor = c.CROWD_SCORE_ALONE if empty_is_risk else c.CROWD_SCORE_NEUTRAL
    score = floor + (100.0 - floor) * min(n, c.CROWD_PLATEAU) / c.CROWD_PLATEAU
    noun = "tourist" if n == 1 else "tourists"
    return FactorResult(
        "crowd_density",
        round(score, 2),
        f"{n} {noun} within 1km",
        {"count": n, "empty_is_risk": empty_is_risk},
    )


def implied_speed_mps(fix: Fix, previous: PreviousFix | None, *, less_accuracy: bool = True) -> float | None:
    """The speed the move from ``previous`` implies, the distance less both fixes' accuracy radii (never
    below zero): two fixes 200 m apart with 150 m accuracy each may not have moved at all."""
    if previous is None:
        return None
    seconds = (fix.timestamp - previous.timestamp).total_seconds()
    if seconds < c.SPEED_MIN_INTERVAL_S:
        return None
    metres = haversine_km(previous.lat, previous.lon, fix.lat, fix.lon) * 1000
    uncertain = (fix.accuracy_m or 0.0) + (previous.accuracy_m or 0.0) if less_accuracy else 0.0
    return max(0.0, metres - uncertain) / seconds


def speed_limit_mps(fix: Fix, max_ground_speed_mps: float) -> float:
    """Ground travel up to ``max_ground_speed_mps`` (high-speed rail); an aircraft's only at altitude."""
    if fix.altitude_m is not None and fix.altitude_m >= c.AIRCRAFT_MIN_ALTITUDE_M:
        return max(max_ground_speed_mps, c.AIRCRAFT_MAX_KMH / 3.6)
    return max_ground_speed_mps


def speed_anomaly(
    fix: Fix,
    previous: PreviousFix | None,
    recent_speeds_mps: list[float],
    *,
    max_ground_speed_mps: float = c.MAX_GROUND_SPEED_KMH / 3.6,
    dark_in_risky_zone: bool = False,
) -> FactorResult:
    """Only a jump no vehicle could make, or a sudden stop after vehicle speed at night inside a risky
    zone, scores low; a train, a bus and a change of mode (walk, bus, walk) are ordinary movement."""
    fastest = max(fix.speed_mps or 0.0, implied_speed_mps(fix, previous) or 0.0)
    facts: dict[str, object] = {"speed_kmh": round(fastest * 3.6, 1)}
    if fastest > speed_limit_mps(fix, max_ground_speed_mps):
        facts["kind"] = "implausible"
        return FactorResult(
            "speed_anomaly",
            c.SPEED_SCORE_IMPLAUSIBLE,
            f"Implausible movement: {fastest * 3.6:.0f} km/h",
            facts,
        )
    # a stop needs evidence of standing still: the raw move, not one a wide accuracy radius shrank
    raw = max(fix.speed_mps or 0.0, implied_speed_mps(fix, previous, less_accuracy=False) or 0.0)
    if dark_in_risky_zone and recent_speeds_mps and raw < c.SPEED_STOP_MPS:
        usual = statistics.median(recent_speeds_mps)
        if usual >= c.SPEED_VEHICLE_MPS:
            facts |= {"kind": "sudden_stop", "usual_kmh": round(usual * 3.6, 1)}
            return FactorResult(
                "speed_anomaly",
                c.SPEED_SCORE_SUDDEN_STOP,
                f"Sudden stop after {usual * 3.6:.0f} km/h, at night in a risky zone",
                facts,
            )
    if fastest > c.SPEED_VEHICLE_MPS:
        return FactorResult(
            "speed_anomaly", c.SPEED_SCORE_VEHICLE, f"Vehicle speed ({fastest * 3.6:.0f} km/h)", facts
        )
    return FactorResult("speed_anomaly", c.SPEED_SCORE_NORMAL, "Normal movement speed", facts)


def historical_risk(fix: Fix, alerts: list[AlertObservation], skew_tolerance_s: float = 0.0) -> FactorResult:
    """Alerts and located incidents within 1 km in the 30 days before the fix (up to
    ``skew_tolerance_s`` after it), severity-weighted."""
    penalty, count = 0.0, 0
    here = _DistancesFrom(fix.lat, fix.lon)
    for alert in alerts:
        age = (fix.timestamp - alert.occurred_at).total_seconds()
        if age < -skew_tolerance_s or age > _HISTORY_WINDOW_S or alert.type in c.NOT_COUNTED_ALERT_TYPES:
            continue
        distance = here.km(alert.lat, alert.lon)
        if distance > c.HISTORY_RADIUS_KM:
            continue
        count += 1
        weight = c.HISTORY_SEVERITY_PENALTY.get(alert.severity, c.HISTORY_SEVERITY_PENALTY["low"])
        penalty += weight * _influence(distance / c.HISTORY_RADIUS_KM)
    noun = "incident" if count == 1 else "incidents"
    return FactorResult(
        "historical_risk",
        _clamp(round(100.0 - penalty, 2)),
        f"{count} {noun} in last 30 days within 1km",
        {"count": count},
    )
