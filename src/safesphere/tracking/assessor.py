"""Gathers what the score needs as of a fix's time (a bounded number of queries) and scores it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy.orm import Session

from safesphere.core import clock
from safesphere.core.config import Settings
from safesphere.scoring import alert_arrays
from safesphere.scoring.alert_arrays import SEVERITY_INDEX, AlertPairs, Floats
from safesphere.scoring.assessment import assess, tourist_safety_score
from safesphere.scoring.constants import ZONE_APPROACH_KM
from safesphere.scoring.model import (
    AlertObservation,
    Assessment,
    FactorResult,
    Fix,
    ScoringInput,
    ZoneProximity,
)
from safesphere.scoring.recommendations import recommend
from safesphere.tracking import repository
from safesphere.zones.spatial_index import ZoneIndex

SAFE_ZONE_SEARCH_KM = 3.0
"""How far to look for a safe zone worth recommending."""
SAFE = frozenset({"safe"})


@dataclass(frozen=True)
class ScoredFix:
    data: ScoringInput
    assessment: Assessment
    tourist_safety_score: float

    def recommendations(self, language: str) -> list[str]:
        return recommend(self.data, self.assessment, language)


def zone_proximities(zone_index: ZoneIndex, lat: float, lon: float) -> list[ZoneProximity]:
    """Every zone the point is in or within ``ZONE_APPROACH_KM`` of, and safe zones within
    ``SAFE_ZONE_SEARCH_KM`` (worth recommending), nearest first: two searches, so the zones of other
    types between the two distances (most of a 3 km search in a dense city) are never measured."""
    nearby = zone_index.near(lat, lon, ZONE_APPROACH_KM)
    if SAFE_ZONE_SEARCH_KM > ZONE_APPROACH_KM:
        seen = {n.zone.zone_id for n in nearby}
        further = zone_index.near(lat, lon, SAFE_ZONE_SEARCH_KM, types=SAFE)
        nearby = sorted(
            [*nearby, *(n for n in further if n.zone.zone_id not in seen)],
            key=lambda n: (n.distance_km, n.zone.zone_id),
        )
    return [
        ZoneProximity(n.zone.zone_id, n.zone.name, n.zone.type, n.inside, n.distance_km, n.bearing_deg)
        for n in nearby
    ]


def score_fix(
    *,
    session: Session,
    settings: Settings,
    zone_index: ZoneIndex,
    tourist_id: int,
    fix: Fix,
    fix_id: int | None = None,
    received_at: datetime | None = None,
) -> ScoredFix:
    """The assessment of ``fix`` with data as of its own time; ``fix_id`` excludes the stored fix itself,
    ``received_at`` is when the server received it (now for a new fix): alerts received later never count
    (no look-ahead, also on rescoring). The caller refreshes ``zone_index`` first (once per
    transaction, however many fixes it scores)."""
    skew = settings.clock_skew_tolerance_s
    nearby_rows, history_rows = repository.alerts_around(
        session,
        lat=fix.lat,
        lon=fix.lon,
        at=fix.timestamp,
        received=received_at or clock.now(),
        skew_tolerance_s=skew,
    )
    at_us = clock.microseconds(fix.timestamp)
    near, nearby = _alert_factor(alert_arrays.nearby_alerts, nearby_rows, fix, at_us, skew)
    past, history = _alert_factor(alert_arrays.historical_risk, history_rows, fix, at_us, skew)
    previous, speeds = repository.recent_movement(
        session, tourist_id=tourist_id, before=fix.timestamp, exclude_fix_id=fix_id
    )
    data = ScoringInput(
        fix=fix,
        nearby_alerts=nearby,
        historical_alerts=history,
        zones=zone_proximities(zone_index, fix.lat, fix.lon),
        tourists_nearby=repository.tourists_nearby(
            session, tourist_id=tourist_id, lat=fix.lat, lon=fix.lon, at=fix.timestamp
        ),
        previous_fix=previous,
        recent_speeds_mps=speeds,
        max_ground_speed_mps=settings.max_ground_speed_kmh / 3.6,
        clock_skew_tolerance_s=skew,
    )
    known = {result.name: result for result in (near, past) if result is not None}
    assessment = assess(data, settings.scoring_weights, known)
    average = repository.average_score(
        session, tourist_id=tourist_id, before=fix.timestamp, exclude_fix_id=fix_id
    )
    return ScoredFix(data, assessment, tourist_safety_score(assessment.location_safety_score, average))


ARRAYS_FROM = 12
"""From this many alerts around a fix on, its alert factor is computed over arrays (``scoring.alert_arrays``:
the same doubles as the factor's own loop, which costs about 6 µs an alert and is cheaper below this). A
fix in a busy district has hundreds in its 30 days."""

ArrayFactor = Callable[[AlertPairs, Floats, Floats, float], list[FactorResult | None]]


def _alert_factor(
    array_factor: ArrayFactor, rows: list[repository.AlertRow], fix: Fix, at_us: int, skew: float
) -> tuple[FactorResult | None, list[AlertObservation]]:
    """The factor's result over arrays when there are many alerts (then the factor needs no list), else
    None and the alerts as the factor itself takes them (also where the arrays leave a fix to it)."""
    if len(rows) >= ARRAYS_FROM:
        _ids, lat, lon, severity, time_us, _types = zip(*rows, strict=True)
        pairs = AlertPairs(
            fix=np.zeros(len(rows), dtype=np.int64),
            lat=np.array(lat, dtype=np.float64),
            lon=np.array(lon, dtype=np.float64),
            age_s=(at_us - np.array(time_us, dtype=np.int64)) / 1e6,
            severity=np.array([SEVERITY_INDEX.get(s, -1) for s in severity], dtype=np.int64),
        )
        result = array_factor(pairs, np.array([fix.lat]), np.array([fix.lon]), skew)[0]
        if result is not None:
            return result, []
    return None, alert_observations(rows)


def alert_observations(rows: list[repository.AlertRow]) -> list[AlertObservation]:
    """The alerts as ``scoring.factors`` takes them."""
    return [
        AlertObservation(lat, lon, severity, clock.EPOCH + timedelta(microseconds=time_us), alert_id, kind)
        for alert_id, lat, lon, severity, time_us, kind in rows
    ]
