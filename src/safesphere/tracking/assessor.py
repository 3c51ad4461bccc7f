"""Gathers what the score needs as of a fix's time (a bounded number of queries) and scores it."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from safesphere.core.config import Settings
from safesphere.scoring.assessment import assess, tourist_safety_score
from safesphere.scoring.constants import ZONE_APPROACH_KM
from safesphere.scoring.model import Assessment, Fix, ScoringInput, ZoneProximity
from safesphere.scoring.recommendations import recommend
from safesphere.tracking import repository
from safesphere.zones.spatial_index import ZoneIndex

SAFE_ZONE_SEARCH_KM = 3.0
"""How far to look for a safe zone worth recommending."""


@dataclass(frozen=True)
class ScoredFix:
    data: ScoringInput
    assessment: Assessment
    tourist_safety_score: float

    def recommendations(self, language: str) -> list[str]:
        return recommend(self.data, self.assessment, language)


def zone_proximities(zone_index: ZoneIndex, lat: float, lon: float) -> list[ZoneProximity]:
    nearby = zone_index.near(lat, lon, max(ZONE_APPROACH_KM, SAFE_ZONE_SEARCH_KM))
    return [
        ZoneProximity(n.zone.zone_id, n.zone.name, n.zone.type, n.inside, n.distance_km, n.bearing_deg)
        for n in nearby
        if n.zone.type == "safe" or n.inside or n.distance_km <= ZONE_APPROACH_KM
    ]


def score_fix(
    *,
    session: Session,
    settings: Settings,
    zone_index: ZoneIndex,
    tourist_id: int,
    fix: Fix,
    fix_id: int | None = None,
) -> ScoredFix:
    """The assessment of ``fix`` with data as of its own time; ``fix_id`` excludes the stored fix itself.
    The caller refreshes ``zone_index`` first (once per transaction, however many fixes it scores)."""
    nearby, history = repository.alerts_around(
        session, tourist_id=tourist_id, lat=fix.lat, lon=fix.lon, at=fix.timestamp
    )
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
    )
    assessment = assess(data, settings.scoring_weights)
    average = repository.average_score(
        session, tourist_id=tourist_id, before=fix.timestamp, exclude_fix_id=fix_id
    )
    return ScoredFix(data, assessment, tourist_safety_score(assessment.location_safety_score, average))
