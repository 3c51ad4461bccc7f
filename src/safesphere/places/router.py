"""The places registry over HTTP: police stations, hospitals, safe havens, and the safe route."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, status

from safesphere.auth.access import AnyUser, AuthorityUser
from safesphere.core.dependencies import DbSession, ReadSession, SettingsDep
from safesphere.core.errors import responses
from safesphere.core.params import Offset, PathId
from safesphere.places import service
from safesphere.places.models import PlaceKind
from safesphere.places.schemas import (
    ImportResult,
    PlaceFeatureCollection,
    PlaceIn,
    PlaceOut,
    PlacePatch,
    SafeRouteOut,
)

router = APIRouter(prefix="/places", tags=["places"], responses=responses(401, 403))

LatQuery = Annotated[float, Query(ge=-90, le=90)]
LonQuery = Annotated[float, Query(ge=-180, le=180)]


@router.get("/safe-route", response_model=SafeRouteOut, responses=responses(n404="No police station"))
def get_safe_route(
    lat: LatQuery, lon: LonQuery, session: ReadSession, settings: SettingsDep, _: AnyUser
) -> SafeRouteOut:
    """The way from a point to the nearest police station: distance, bearing, walking time, route."""
    return SafeRouteOut.from_route(service.safe_route(session=session, settings=settings, lat=lat, lon=lon))


@router.get("/export.geojson")
def export_places(session: ReadSession, _: AnyUser, kind: PlaceKind | None = None) -> dict[str, Any]:
    """Every place as a GeoJSON FeatureCollection of Points."""
    return service.export_geojson(session=session, kind=kind)


@router.post("/import", response_model=ImportResult, status_code=status.HTTP_201_CREATED)
def import_places(body: PlaceFeatureCollection, session: DbSession, user: AuthorityUser) -> ImportResult:
    """Add places from a GeoJSON FeatureCollection of Points (properties: name, kind, address, phone)."""
    return ImportResult(imported=service.import_geojson(session=session, collection=body, created_by=user.id))


@router.post("", response_model=PlaceOut, status_code=status.HTTP_201_CREATED)
def create_place(body: PlaceIn, session: DbSession, user: AuthorityUser) -> PlaceOut:
    """Register a police station, hospital or safe haven."""
    return PlaceOut.from_place(service.create_place(session=session, place_in=body, created_by=user.id))


@router.get("", response_model=list[PlaceOut])
def list_places(
    session: ReadSession,
    _: AnyUser,
    kind: PlaceKind | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Offset = 0,
) -> list[PlaceOut]:
    """Registered places, optionally of one kind."""
    return [
        PlaceOut.from_place(p)
        for p in service.list_places(session=session, kind=kind, limit=limit, offset=offset)
    ]


@router.get("/{place_id:int}", response_model=PlaceOut, responses=responses(n404="Place not found"))
def get_place(place_id: PathId, session: ReadSession, _: AnyUser) -> PlaceOut:
    """One place."""
    return PlaceOut.from_place(service.get_place(session=session, place_id=place_id))


@router.patch("/{place_id:int}", response_model=PlaceOut, responses=responses(n404="Place not found"))
def update_place(place_id: PathId, body: PlacePatch, session: DbSession, _: AuthorityUser) -> PlaceOut:
    """Change a place's fields."""
    return PlaceOut.from_place(service.update_place(session=session, place_id=place_id, patch=body))


@router.delete(
    "/{place_id:int}", status_code=status.HTTP_204_NO_CONTENT, responses=responses(n404="Place not found")
)
def delete_place(place_id: PathId, session: DbSession, _: AuthorityUser) -> None:
    """Remove a place."""
    service.delete_place(session=session, place_id=place_id)
