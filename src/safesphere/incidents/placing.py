"""Where an unlocated report happened: a phone running the engine reports without coordinates, but its
owner's latest fix from a minute ago says where they are."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from safesphere.incidents.models import Incident, LocationSource
from safesphere.tracking.repository import latest_fix


@dataclass(frozen=True)
class OwnerFix:
    latitude: float
    longitude: float
    accuracy_m: float | None
    timestamp: datetime


@dataclass(frozen=True)
class Place:
    latitude: float | None
    longitude: float | None
    accuracy_m: float | None
    source: LocationSource
    fix_age_s: float | None


def place_from_owner(fix: OwnerFix | None, *, received_at: datetime, max_age_s: float) -> Place:
    """The owner's fix when it is at most ``max_age_s`` old at the report's receipt (a fix stamped after
    the receipt, by a phone clock ahead, is age 0); otherwise unlocated. Pure."""
    if fix is not None:
        age_s = max(0.0, (received_at - fix.timestamp).total_seconds())
        if age_s <= max_age_s:
            return Place(fix.latitude, fix.longitude, fix.accuracy_m, LocationSource.owner_last_fix, age_s)
    return Place(None, None, None, LocationSource.none, None)


def place_unlocated(*, session: Session, incident: Incident, received_at: datetime, max_age_s: float) -> None:
    """Sets the place of a new incident that has no coordinates (its location source says which), before
    it is stored."""
    if incident.latitude is not None and incident.longitude is not None:
        return
    fix = None
    if incident.owner_id is not None:
        found = latest_fix(session, tourist_id=incident.owner_id)
        if found is not None:
            fix = OwnerFix(found.latitude, found.longitude, found.accuracy, found.timestamp)
    place = place_from_owner(fix, received_at=received_at, max_age_s=max_age_s)
    incident.latitude, incident.longitude = place.latitude, place.longitude
    incident.location_accuracy_m = place.accuracy_m
    incident.location_source = place.source.value
    incident.location_fix_age_s = None if place.fix_age_s is None else round(place.fix_age_s, 3)
