"""Use cases of the places registry and the safe route to the nearest police station."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from safesphere.core.config import Settings
from safesphere.core.db import table
from safesphere.core.errors import NotFound
from safesphere.geo import bounding_box, compass_direction, haversine_km, initial_bearing_deg
from safesphere.places.models import Place, PlaceKind
from safesphere.places.routing import WALKING_SPEED_MPS, Route, walking_route
from safesphere.places.schemas import PlaceFeatureCollection, PlaceIn, PlacePatch

NEAREST_SEARCH_RADII_KM = (2.0, 10.0, 50.0, 250.0)
"""Widening bounding boxes for the nearest-place search: most lookups end in the first, indexed one."""


def create_place(*, session: Session, place_in: PlaceIn, created_by: int | None) -> Place:
    place = Place(
        name=place_in.name,
        kind=place_in.kind.value,
        latitude=place_in.lat,
        longitude=place_in.lon,
        address=place_in.address,
        phone=place_in.phone,
        created_by=created_by,
    )
    session.add(place)
    session.commit()
    return place


def get_place(*, session: Session, place_id: int) -> Place:
    place = session.get(Place, place_id)
    if place is None:
        raise NotFound("Place not found")
    return place


def list_places(
    *, session: Session, kind: PlaceKind | None = None, limit: int = 100, offset: int = 0
) -> list[Place]:
    query = sa.select(Place).order_by(Place.id).limit(limit).offset(offset)
    if kind is not None:
        query = query.where(Place.kind == kind.value)
    return list(session.scalars(query))


def update_place(*, session: Session, place_id: int, patch: PlacePatch) -> Place:
    place = get_place(session=session, place_id=place_id)
    changes = patch.model_dump(exclude_unset=True)
    columns = {"lat": "latitude", "lon": "longitude"}
    for field, value in changes.items():
        if value is None and field in ("name", "kind", "lat", "lon"):
            continue  # required columns: an explicit null leaves them as they are
        setattr(place, columns.get(field, field), value.value if isinstance(value, PlaceKind) else value)
    session.commit()
    return place


def delete_place(*, session: Session, place_id: int) -> None:
    session.delete(get_place(session=session, place_id=place_id))
    session.commit()


def import_geojson(*, session: Session, collection: PlaceFeatureCollection, created_by: int | None) -> int:
    """Adds every Point feature as a place, all or nothing."""
    session.add_all(
        Place(
            name=feature.properties.name,
            kind=feature.properties.kind.value,
            latitude=feature.geometry.coordinates[1],
            longitude=feature.geometry.coordinates[0],
            address=feature.properties.address,
            phone=feature.properties.phone,
            created_by=created_by,
        )
        for feature in collection.features
    )
    session.commit()
    return len(collection.features)


def export_geojson(*, session: Session, kind: PlaceKind | None = None) -> dict[str, object]:
    query = sa.select(Place).order_by(Place.id)
    if kind is not None:
        query = query.where(Place.kind == kind.value)
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": place.id,
                "geometry": {"type": "Point", "coordinates": [place.longitude, place.latitude]},
                "properties": {
                    "name": place.name,
                    "kind": place.kind,
                    "address": place.address,
                    "phone": place.phone,
                },
            }
            for place in session.scalars(query)
        ],
    }


_P = table(Place).c
_PLACES_OF_KIND = sa.select(table(Place)).where(_P.kind == sa.bindparam("kind"))
_IN_BOX = _PLACES_OF_KIND.where(
    _P.latitude.between(sa.bindparam("min_lat"), sa.bindparam("max_lat")),
    _P.longitude.between(sa.bindparam("min_lon"), sa.bindparam("max_lon")),
)
_ANY_OF_KIND = sa.select(_P.id).where(_P.kind == sa.bindparam("kind")).limit(1)
"""Core statements built once: a CRITICAL report's safe-route step asks them inside the writer's unit."""


def nearest_place(*, session: Session, lat: float, lon: float, kind: PlaceKind) -> tuple[Place, float] | None:
    """The nearest place of ``kind`` and its great-circle distance in km, or None if there is none. The
    candidates are plain rows; only the nearest becomes a (transient) ``Place``."""
    connection = session.connection()
    for radius_km in (*NEAREST_SEARCH_RADII_KM, None):
        if radius_km is None:
            rows = connection.execute(_PLACES_OF_KIND, {"kind": kind.value})
        else:
            box = bounding_box(lat, lon, radius_km)
            rows = connection.execute(
                _IN_BOX,
                {"kind": kind.value, "min_lat": box.min_lat, "max_lat": box.max_lat,
                 "min_lon": box.min_lon, "max_lon": box.max_lon},
            )  # fmt: skip
        candidates = [(row, haversine_km(lat, lon, row.latitude, row.longitude)) for row in rows]
        within = [c for c in candidates if radius_km is None or c[1] <= radius_km]
        if within:
            row, distance_km = min(within, key=lambda c: (c[1], c[0].id))
            return Place(**row._asdict()), distance_km
        first = radius_km == NEAREST_SEARCH_RADII_KM[0]
        if first and connection.scalar(_ANY_OF_KIND, {"kind": kind.value}) is None:
            return None  # none registered at all: no need to look further out
    return None


@dataclass(frozen=True)
class SafeRoute:
    origin_lat: float
    origin_lon: float
    station: Place
    distance_km: float
    bearing_deg: float
    direction: str
    walking_minutes: float
    route: Route


def safe_route(*, session: Session, settings: Settings, lat: float, lon: float) -> SafeRoute:
    """The way from (lat, lon) to the nearest police station; 404 when no station is registered."""
    found = nearest_place(session=session, lat=lat, lon=lon, kind=PlaceKind.police_station)
    if found is None:
        raise NotFound("No police station is registered")
    station, distance_km = found
    bearing = initial_bearing_deg(lat, lon, station.latitude, station.longitude)
    route = walking_route(
        settings.routing_url,
        lat,
        lon,
        station.latitude,
        station.longitude,
        timeout_s=settings.routing_timeout_s,
    )
    walking_s = route.duration_s if route.source == "osrm" else distance_km * 1000 / WALKING_SPEED_MPS
    return SafeRoute(
        origin_lat=lat,
        origin_lon=lon,
        station=station,
        distance_km=round(distance_km, 3),
        bearing_deg=round(bearing, 1),
        direction=compass_direction(bearing),
        walking_minutes=round(walking_s / 60, 1),
        route=route,
    )
