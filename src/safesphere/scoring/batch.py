"""The assessment of many fixes at once (batched rescoring): the six factors over arrays
(``factor_arrays.py``, ``alert_arrays.py``), weighted, summed and rounded exactly as ``assessment.assess``
does for one fix, so every fix gets the same scores, factors and level as alone."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from safesphere.scoring import constants as c
from safesphere.scoring import factor_arrays
from safesphere.scoring.assessment import risk_level
from safesphere.scoring.factor_arrays import Floats, Ints, Movement, ZonePairs
from safesphere.scoring.model import Assessment, FactorResult, WeightedFactor


@dataclass(frozen=True)
class BatchInput:
    """What ``ScoringInput`` holds for each fix of a batch, as columns; the two alert factors come already
    computed (``alert_arrays``, or the factor itself where the arrays leave a fix to it)."""

    lat: Floats
    lon: Floats
    timestamps: list[datetime]
    movement: Movement
    zones: ZonePairs
    tourists_nearby: Ints
    nearby_alerts: list[FactorResult]
    historical_risk: list[FactorResult]
    max_ground_speed_mps: float


@dataclass(frozen=True)
class BatchAssessment:
    """Per fix: the location score and level, and per factor (in FACTOR_NAMES order) its result, its
    rounded score and its contribution."""

    location_score: list[float]
    risk_level: list[str]
    results: list[list[FactorResult]]
    scores: list[list[float]]
    weights: list[float]
    contributions: list[list[float]]

    def assessment(self, i: int) -> Assessment:
        """Fix ``i``'s ``Assessment``, as ``assessment.assess`` builds it."""
        weighted = [
            WeightedFactor(r[i].name, s[i], w, k[i], r[i].details, r[i].facts)
            for r, s, w, k in zip(self.results, self.scores, self.weights, self.contributions, strict=True)
        ]
        return Assessment(self.location_score[i], self.risk_level[i], weighted)


def factor_results(batch: BatchInput) -> list[list[FactorResult]]:
    """``assessment.factor_results`` for each fix, factor by factor over the whole batch."""
    count = len(batch.timestamps)
    zone = factor_arrays.zone_risk(batch.zones, count)
    time = factor_arrays.time_of_day(batch.lat, batch.lon, batch.timestamps)
    dark = np.array([r.score < c.TIME_SCORE_DAYLIGHT for r in time], dtype=bool)
    in_risky_zone = np.array(
        [bool(r.facts.get("inside")) and r.facts.get("zone_type") in c.ZONE_SCORE_INSIDE for r in zone],
        dtype=bool,
    )
    crowd = factor_arrays.crowd_density(batch.tourists_nearby, dark | in_risky_zone)
    speed = factor_arrays.speed_anomaly(
        batch.lat, batch.lon, batch.movement, dark & in_risky_zone, batch.max_ground_speed_mps
    )
    return [batch.nearby_alerts, zone, time, crowd, speed, batch.historical_risk]


def assess(batch: BatchInput, weights: Mapping[str, float] = c.DEFAULT_WEIGHTS) -> BatchAssessment:
    """``assessment.assess`` for each fix: each factor's score rounded to 2 decimals and weighted, the
    products added in factor order (by ``sum``, as there), the total clamped and rounded."""
    results = factor_results(batch)
    factor_weights = [weights[name] for name in c.FACTOR_NAMES]
    scores = [round_2(np.array([r.score for r in column], dtype=np.float64)) for column in results]
    products = [
        np.array(column, dtype=np.float64) * w for column, w in zip(scores, factor_weights, strict=True)
    ]
    sums = np.array([sum(terms) for terms in zip(*(p.tolist() for p in products), strict=True)])
    below_top = np.where(sums < 100.0, sums, 100.0)  # min(100.0, total)
    totals = round_2(np.where(below_top > 0.0, below_top, 0.0))  # max(0.0, ...)
    return BatchAssessment(
        location_score=totals,
        risk_level=[risk_level(total) for total in totals],
        results=results,
        scores=scores,
        weights=factor_weights,
        contributions=[round_2(p) for p in products],
    )


ROUNDING_EDGE = 1e-6
"""In hundredths: a value whose product by 100 lies this close to a half might round the other way than
its exact decimal value does, so ``round`` itself rounds it."""


def round_2(values: Floats) -> list[float]:
    """``round(x, 2)`` of each value: the nearest integer of x * 100, over 100, is the double nearest the
    correctly rounded decimal, except where x * 100 lies a hair from a half (there ``round`` decides)."""
    hundredths = values * 100.0
    rounded: list[float] = (np.rint(hundredths) / 100.0).tolist()
    unsure = np.abs(hundredths - np.floor(hundredths) - 0.5) < ROUNDING_EDGE
    for k in np.flatnonzero(unsure | ~np.isfinite(values)).tolist():
        rounded[k] = round(float(values[k]), 2)
    return rounded
