"""Four of the six factors (zone, time of day, crowd, speed) for many fixes at once (batched rescoring): the
arithmetic of ``factors.py`` term for term over arrays, so each fix gets the very ``FactorResult`` the factor
gives it alone. ``alert_arrays.py`` does the same for the two alert factors.

Only basic IEEE operations (+, -, *, /, comparisons) run over arrays, which give the same doubles as
Python's. A distance comes from ``geo`` itself, and the sun's elevation from numpy's trigonometry
unless it lies within a hair of a threshold or a rounding edge, where ``sun.elevation`` decides.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from safesphere.geo import haversine_km
from safesphere.scoring import constants as c
from safesphere.scoring import factors, sun
from safesphere.scoring.factors import CIVIL_TWILIGHT_DEG, SUN_HORIZON_DEG
from safesphere.scoring.model import FactorResult

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]

SUN_EDGE_DEG = 1e-6
"""numpy's cos/acos may differ from ``math``'s in the last bits (far below this): an elevation this close
to a threshold or to where ``round(x, 1)`` flips is computed again by ``sun.elevation``."""
REFRACTION_EDGES_DEG = (85.0, 5.0, -0.575)
"""Where astral's refraction formula changes branch."""


@dataclass(frozen=True)
class ZonePairs:
    """The zones that may decide each fix's zone factor (``ScoringInput.zones``), one row per (fix, zone),
    a fix's rows consecutive."""

    fix: Ints
    zone_id: Ints
    inside: Bools
    distance_km: Floats
    bearing_deg: list[float | None]
    name: list[str]
    type: list[str]


def zone_risk(pairs: ZonePairs, count: int) -> list[FactorResult]:
    """``factors.zone_risk`` of each fix's zones: the worst restricted/risky zone (ties to the nearest, then
    the one stood in, then the lowest id), else a safe zone stood in, else ordinary ground."""
    inside_score = np.array([c.ZONE_SCORE_INSIDE.get(t, math.nan) for t in pairs.type], dtype=np.float64)
    distance = pairs.distance_km
    approaching = inside_score + (c.ZONE_SCORE_OUTSIDE - inside_score) * distance / c.ZONE_APPROACH_KM
    near = np.where(distance < c.ZONE_APPROACH_KM, approaching, math.nan)
    score = np.where(pairs.inside, inside_score, near)
    worse = score < c.ZONE_SCORE_OUTSIDE  # NaN (safe zones, too far) never is
    order = np.lexsort((pairs.zone_id, ~pairs.inside, distance, score, pairs.fix))
    order = order[worse[order]]
    first = order[np.r_[True, pairs.fix[order][1:] != pairs.fix[order][:-1]]] if len(order) else order
    worst: dict[int, int] = dict(zip(pairs.fix[first].tolist(), first.tolist(), strict=True))
    safe: dict[int, tuple[int, str]] = {}
    for k in np.flatnonzero(pairs.inside & ~worse).tolist():
        i, zone_id = int(pairs.fix[k]), int(pairs.zone_id[k])
        if pairs.type[k] == "safe" and (i not in safe or zone_id < safe[i][0]):
            safe[i] = (zone_id, pairs.name[k])
    scores, distances, inside = score.tolist(), distance.tolist(), pairs.inside.tolist()
    results = []
    for i in range(count):
        found = worst.get(i)
        if found is None:
            results.append(_unthreatened(safe.get(i)))
            continue
        k = found
        kind, name = pairs.type[k], pairs.name[k]
        facts: dict[str, object] = {
            "zone": name,
            "zone_type": kind,
            "inside": inside[k],
            "distance_km": round(distances[k], 2),
            "bearing_deg": pairs.bearing_deg[k],
        }
        if inside[k]:
            results.append(FactorResult("zone_risk", scores[k], f"Inside {kind} zone '{name}'", facts))
        else:
            details = f"{distances[k]:.1f}km from {kind} zone '{name}'"
            results.append(FactorResult("zone_risk", round(scores[k], 2), details, facts))
    return results


def _unthreatened(safe: tuple[int, str] | None) -> FactorResult:
    if safe is not None:
        name = safe[1]
        return FactorResult("zone_risk", c.ZONE_SCORE_SAFE, f"Inside safe zone '{name}'", {"safe_zone": name})
    return FactorResult("zone_risk", c.ZONE_SCORE_OUTSIDE, "No restricted or risky zone within 1km", {})


def time_of_day(lat: Floats, lon: Floats, when: list[datetime]) -> list[FactorResult]:
    """``factors.time_of_day`` for each fix: local time from the coordinates' time zone, daylight from the
    sun's elevation there and then."""
    names = _zone_names(lat, lon)
    elevation = sun_elevations(lat, lon, when)
    results = []
    zones = {name: factors._zone(name) for name in set(names)}
    for moment, name, sun_deg in zip(when, names, elevation.tolist(), strict=True):
        local = moment.astimezone(zones[name])
        hour = local.hour
        clock_text = f"{hour:02d}:{local.minute:02d}"
        facts: dict[str, object] = {"local_time": clock_text, "sun_elevation_deg": round(sun_deg, 1)}
        if sun_deg > SUN_HORIZON_DEG:
            score, details = c.TIME_SCORE_DAYLIGHT, f"Daytime ({clock_text} local) - safer period"
        elif sun_deg > CIVIL_TWILIGHT_DEG:
            score, details = c.TIME_SCORE_TWILIGHT, f"Twilight ({clock_text} local) - fading light"
        elif hour >= c.LATE_NIGHT_START_HOUR or hour < c.LATE_NIGHT_END_HOUR:
            score, details = c.TIME_SCORE_LATE_NIGHT, f"Late night ({clock_text} local) - highest-risk period"
        else:
            score, details = c.TIME_SCORE_NIGHT, f"Night ({clock_text} local) - reduced safety"
        results.append(FactorResult("time_of_day", score, details, facts))
    return results


def _zone_names(lat: Floats, lon: Floats) -> list[str]:
    """``factors.local_time``'s zone for each point (at its coordinates rounded to 3 decimals), looked up
    in one batch call of the same finder."""
    rounded_lat = [round(x, 3) for x in lat.tolist()]
    rounded_lon = [round(x, 3) for x in lon.tolist()]
    found = factors._timezone_finder().timezone_names_at(
        lngs=np.array(rounded_lon, dtype=np.float64), lats=np.array(rounded_lat, dtype=np.float64)
    )
    return [name or "UTC" for name in found]


def sun_elevations(lat: Floats, lon: Floats, when: list[datetime]) -> Floats:
    """``sun.elevation`` for each point and moment: its place half over arrays, the moment half per second
    (shared with ``sun.py``), and ``sun.elevation`` itself wherever the last bits could matter."""
    zones, moments, clocks = [], [], []
    for w in when:
        offset = w.utcoffset()
        zones.append(-offset.total_seconds() / 3600.0 if offset is not None else 0.0)
        utc = w.astimezone(UTC) if w.tzinfo is not None else w
        moments.append(sun._sun_at(utc.replace(microsecond=0, tzinfo=None)))
        clocks.append((w.hour, w.minute, w.second))
    zone = np.array(zones, dtype=np.float64)
    moment = np.array(moments, dtype=np.float64).reshape(len(when), 3)
    clock = np.array(clocks, dtype=np.float64).reshape(len(when), 3)
    sd, cd, eqtime = moment[:, 0], moment[:, 1], moment[:, 2]
    latitude = np.clip(lat, -sun.MAX_LATITUDE, sun.MAX_LATITUDE)
    solar = clock[:, 0] * 60.0 + clock[:, 1] + clock[:, 2] / 60.0 + (eqtime + (4.0 * lon) + (60 * zone))
    while (solar > 1440).any():
        solar = np.where(solar > 1440, solar - 1440, solar)
    hour_angle = solar / 4.0 - 180.0
    hour_angle = np.where(hour_angle < -180, hour_angle + 360.0, hour_angle)
    csz = (
        np.cos(np.radians(latitude)) * cd * np.cos(np.radians(hour_angle)) + np.sin(np.radians(latitude)) * sd
    )
    zenith = np.degrees(np.arccos(np.clip(csz, -1.0, 1.0)))
    elevation = 90.0 - (zenith - _refraction(zenith))
    unsure = np.abs(np.abs(csz) - 1.0) < 1e-9
    for edge in (SUN_HORIZON_DEG, CIVIL_TWILIGHT_DEG):
        unsure |= np.abs(elevation - edge) < SUN_EDGE_DEG
    for edge in REFRACTION_EDGES_DEG:
        unsure |= np.abs(90.0 - zenith - edge) < SUN_EDGE_DEG
    tenths = elevation * 10.0
    unsure |= np.abs(tenths - np.floor(tenths) - 0.5) < SUN_EDGE_DEG * 10.0
    for k in np.flatnonzero(unsure).tolist():
        elevation[k] = sun.elevation(float(lat[k]), float(lon[k]), when[k])
    return elevation


def _refraction(zenith: Floats) -> Floats:
    """astral's ``refraction_at_zenith`` over arrays (its branches as masks)."""
    elevation = 90 - zenith
    with np.errstate(divide="ignore", invalid="ignore"):
        te = np.tan(np.radians(elevation))
        high = 58.1 / te - 0.07 / (te * te * te) + 0.000086 / (te * te * te * te * te)
        step1 = -12.79 + elevation * 0.711
        step2 = 103.4 + elevation * step1
        step3 = -518.2 + elevation * step2
        low = 1735.0 + elevation * step3
        below = -20.774 / te
    correction = np.where(elevation > 5.0, high, np.where(elevation > -0.575, low, below)) / 3600.0
    result: Floats = np.where(elevation >= 85.0, 0.0, correction)
    return result


crowd_result = lru_cache(maxsize=4096)(factors.crowd_density)
"""``factors.crowd_density`` itself, remembered: its inputs are a count and a flag."""


def crowd_density(tourists_nearby: Ints, empty_is_risk: Bools) -> list[FactorResult]:
    return [
        crowd_result(n, risk)
        for n, risk in zip(tourists_nearby.tolist(), empty_is_risk.tolist(), strict=True)
    ]


@dataclass(frozen=True)
class Movement:
    """Each fix's reported speed, accuracy and altitude (NaN: not given), its previous fix (``has_previous``
    false: none) and the speeds of the hour before it (``recent_speeds``)."""

    speed: Floats
    accuracy: Floats
    altitude: Floats
    has_previous: Bools
    previous_lat: Floats
    previous_lon: Floats
    previous_accuracy: Floats
    seconds_since_previous: Floats
    """(fix time - previous fix's time) in seconds: exact microseconds / 1e6, as ``total_seconds``."""
    recent_speeds: list[list[float]]


def _or_zero(values: Floats) -> Floats:
    """``value or 0.0`` (NaN stands for None)."""
    result: Floats = np.where(np.isnan(values), 0.0, values)
    return result


def _larger(a: Floats, b: Floats) -> Floats:
    """Python's ``max(a, b)``: b only where it is strictly greater."""
    result: Floats = np.where(b > a, b, a)
    return result


def speed_anomaly(
    lat: Floats, lon: Floats, movement: Movement, dark_in_risky_zone: Bools, max_ground_speed_mps: float
) -> list[FactorResult]:
    """``factors.speed_anomaly`` for each fix."""
    m = movement
    seconds = m.seconds_since_previous
    moved = m.has_previous & (seconds >= c.SPEED_MIN_INTERVAL_S)
    metres = np.zeros(len(lat))
    before, here = (m.previous_lat.tolist(), m.previous_lon.tolist()), (lat.tolist(), lon.tolist())
    for k in np.flatnonzero(moved).tolist():
        metres[k] = haversine_km(before[0][k], before[1][k], here[0][k], here[1][k]) * 1000
    uncertain = _or_zero(m.accuracy) + _or_zero(m.previous_accuracy)
    with np.errstate(divide="ignore", invalid="ignore"):
        implied = np.where(moved, _larger(np.zeros(len(lat)), metres - uncertain) / seconds, 0.0)
        raw_implied = np.where(moved, _larger(np.zeros(len(lat)), metres) / seconds, 0.0)
    reported = _or_zero(m.speed)
    fastest = _larger(reported, implied)
    raw = _larger(reported, raw_implied)
    aircraft_limit = max(max_ground_speed_mps, c.AIRCRAFT_MAX_KMH / 3.6)
    limit = np.where(m.altitude >= c.AIRCRAFT_MIN_ALTITUDE_M, aircraft_limit, max_ground_speed_mps)
    implausible = (fastest > limit).tolist()
    may_stop = (dark_in_risky_zone & (raw < c.SPEED_STOP_MPS)).tolist()
    vehicle = (fastest > c.SPEED_VEHICLE_MPS).tolist()
    kmh = (fastest * 3.6).tolist()
    results = []
    for k, speed_kmh in enumerate(kmh):
        facts: dict[str, object] = {"speed_kmh": round(speed_kmh, 1)}
        if implausible[k]:
            facts["kind"] = "implausible"
            details = f"Implausible movement: {speed_kmh:.0f} km/h"
            results.append(FactorResult("speed_anomaly", c.SPEED_SCORE_IMPLAUSIBLE, details, facts))
            continue
        if may_stop[k] and m.recent_speeds[k]:
            usual = statistics.median(m.recent_speeds[k])
            if usual >= c.SPEED_VEHICLE_MPS:
                facts |= {"kind": "sudden_stop", "usual_kmh": round(usual * 3.6, 1)}
                details = f"Sudden stop after {usual * 3.6:.0f} km/h, at night in a risky zone"
                results.append(FactorResult("speed_anomaly", c.SPEED_SCORE_SUDDEN_STOP, details, facts))
                continue
        if vehicle[k]:
            details = f"Vehicle speed ({speed_kmh:.0f} km/h)"
            results.append(FactorResult("speed_anomaly", c.SPEED_SCORE_VEHICLE, details, facts))
        else:
            results.append(
                FactorResult("speed_anomaly", c.SPEED_SCORE_NORMAL, "Normal movement speed", facts)
            )
    return results
