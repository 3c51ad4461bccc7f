"""The safety score: six factors, weighted, with the risk level and the tourist's blended score."""

from __future__ import annotations

import math
from collections.abc import Mapping

from safesphere.scoring import constants as c
from safesphere.scoring import factors
from safesphere.scoring.model import Assessment, FactorResult, ScoringInput, WeightedFactor


def validate_weights(weights: Mapping[str, float]) -> dict[str, float]:
    """The six factor weights, each in 0..1, summing to 1; a ValueError says what is wrong."""
    if set(weights) != set(c.FACTOR_NAMES):
        raise ValueError(f"weights must name exactly these factors: {', '.join(c.FACTOR_NAMES)}")
    if any(not 0.0 <= w <= 1.0 for w in weights.values()):
        raise ValueError("each weight must be between 0 and 1")
    if not math.isclose(sum(weights.values()), 1.0, abs_tol=1e-6):
        raise ValueError(f"weights must sum to 1, not {sum(weights.values()):g}")
    return {name: float(weights[name]) for name in c.FACTOR_NAMES}


def risk_level(score: float) -> str:
    for floor, level in c.RISK_LEVEL_FLOORS:
        if score >= floor:
            return level
    return "critical"


def factor_results(data: ScoringInput, known: Mapping[str, FactorResult] | None = None) -> list[FactorResult]:
    """The six factors of ``data``, in FACTOR_NAMES order. ``known`` holds factors already computed from
    this same data (batched rescoring computes the alert factors of a whole batch over arrays)."""
    known = known or {}
    fix, skew = data.fix, data.clock_skew_tolerance_s
    zone, time = factors.zone_risk(data.zones), factors.time_of_day(fix)
    dark = time.score < c.TIME_SCORE_DAYLIGHT
    in_risky_zone = bool(zone.facts.get("inside")) and zone.facts.get("zone_type") in c.ZONE_SCORE_INSIDE
    speed = factors.speed_anomaly(
        fix,
        data.previous_fix,
        data.recent_speeds_mps,
        max_ground_speed_mps=data.max_ground_speed_mps,
        dark_in_risky_zone=dark and in_risky_zone,
    )
    return [
        known.get("nearby_alerts") or factors.nearby_alerts(fix, data.nearby_alerts, skew),
        zone,
        time,
        factors.crowd_density(data.tourists_nearby, empty_is_risk=dark or in_risky_zone),
        speed,
        known.get("historical_risk") or factors.historical_risk(fix, data.historical_alerts, skew),
    ]


def assess(
    data: ScoringInput,
    weights: Mapping[str, float] = c.DEFAULT_WEIGHTS,
    known: Mapping[str, FactorResult] | None = None,
) -> Assessment:
    """The location safety score (0-100, 2 decimals), its risk level and each factor's part in it."""
    weighted = []
    for result in factor_results(data, known):
        score = round(result.score, 2)
        weight = weights[result.name]
        weighted.append(
            WeightedFactor(result.name, score, weight, round(score * weight, 2), result.details, result.facts)
        )
    total = round(max(0.0, min(100.0, sum(f.score * f.weight for f in weighted))), 2)
    return Assessment(location_safety_score=total, risk_level=risk_level(total), factors=weighted)


def tourist_safety_score(location_score: float, history_average: float | None) -> float:
    """0.7 x this location + 0.3 x the tourist's 30-day average; the first fix is the location alone."""
    if history_average is None:
        return round(location_score, 2)
    blended = c.TOURIST_BLEND_LOCATION * location_score + (1 - c.TOURIST_BLEND_LOCATION) * history_average
    return round(blended, 2)
