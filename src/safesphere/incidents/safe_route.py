"""The way to safety for an incident's protected person: from their latest fix (else the threat's place)
to the nearest police station. The route itself is ``places``'; the incident knows where to start."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from safesphere.core.config import Settings
from safesphere.core.errors import NotFound
from safesphere.geo import compass_direction, initial_bearing_deg
from safesphere.incidents.models import Incident
from safesphere.places import service as places_service
from safesphere.places.models import PlaceKind
from safesphere.places.routing import WALKING_SPEED_MPS
from safesphere.tracking.repository import latest_fix


def _origin(session: Session, incident: Incident) -> tuple[float, float] | None:
    """Where the protected person is: their latest fix, else where the threat was seen."""
    if incident.owner_id is not None:
        fix = latest_fix(session, tourist_id=incident.owner_id)
        if fix is not None:
            return fix.latitude, fix.longitude
    if incident.latitude is not None and incident.longitude is not None:
        return incident.latitude, incident.longitude
    return None


def incident_safe_route(
    *, session: Session, settings: Settings, incident_id: str
) -> places_service.SafeRoute:
    """The way from the protected person (or the threat's place) to the nearest police station."""
    incident = session.scalar(sa.select(Incident).where(Incident.incident_id == incident_id))
    if incident is None:
        raise NotFound("Incident not found")
    origin = _origin(session, incident)
    if origin is None:
        raise NotFound("The incident has no location and its owner has sent none")
    return places_service.safe_route(session=session, settings=settings, lat=origin[0], lon=origin[1])


NO_ROUTE_ORIGIN = "no location: neither the threat nor its owner has a place to route from"
NO_POLICE_STATION = "no police station registered"


def safe_route_note(*, session: Session, incident: Incident) -> str:
    """What the protocol's ``safe_route`` step records: the nearest police station in a straight line (the
    report must not wait for a routing service; ``GET /incidents/{id}/safe-route`` gives the walking
    route)."""
    origin = _origin(session, incident)
    found = (
        None
        if origin is None
        else places_service.nearest_place(
            session=session, lat=origin[0], lon=origin[1], kind=PlaceKind.police_station
        )
    )
    if origin is None:
        return NO_ROUTE_ORIGIN
    if found is None:
        return NO_POLICE_STATION
    station, distance_km = found
    direction = compass_direction(
        initial_bearing_deg(origin[0], origin[1], station.latitude, station.longitude)
    )
    minutes = distance_km * 1000 / WALKING_SPEED_MPS / 60
    return (f"Nearest police station '{station.name}': {distance_km:.1f} km {direction}, "
            f"about {minutes:.0f} min on foot")  # fmt: skip
