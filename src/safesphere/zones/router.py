"""Zones over HTTP, for authorities."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, status

from safesphere.auth.access import AuthorityUser
from safesphere.core.dependencies import DbSession, ReadSession
from safesphere.core.errors import responses
from safesphere.core.params import PathId
from safesphere.zones import service
from safesphere.zones.models import Zone, ZoneType
from safesphere.zones.schemas import (
    LatLon,
    ZoneFeatureCollection,
    ZoneImportResult,
    ZoneIn,
    ZoneOut,
    ZonePatch,
)

router = APIRouter(prefix="/zones", tags=["zones"], responses=responses(401, 403))
NOT_FOUND = responses(n404="Zone not found")


def zone_out(zone: Zone) -> ZoneOut:
    return ZoneOut(
        id=zone.id,
        name=zone.name,
        type=ZoneType(zone.type),
        center=LatLon(lat=zone.center_lat, lon=zone.center_lon),
        radius_km=round(zone.radius_km, 4),
        polygon=zone.polygon,
        created_at=zone.created_at,
        updated_at=zone.updated_at,
    )


@router.get("/export.geojson")
def export_zones(session: ReadSession, _: AuthorityUser) -> dict[str, Any]:
    """Every zone as a GeoJSON FeatureCollection (circles as Points with a radius_km property)."""
    return service.export_geojson(session=session)


@router.post("/import", response_model=ZoneImportResult, status_code=status.HTTP_201_CREATED)
def import_zones(body: ZoneFeatureCollection, session: DbSession, user: AuthorityUser) -> ZoneImportResult:
    """Add zones from a GeoJSON FeatureCollection (properties: name, type, and radius_km for Points)."""
    return ZoneImportResult(
        imported=service.import_geojson(session=session, collection=body, created_by=user.id)
    )


@router.post("", response_model=ZoneOut, status_code=status.HTTP_201_CREATED)
def create_zone(body: ZoneIn, session: DbSession, user: AuthorityUser) -> ZoneOut:
    """Create a safe, restricted or risky zone: a circle or a GeoJSON polygon."""
    return zone_out(service.create_zone(session=session, zone_in=body, created_by=user.id))


@router.get("", response_model=list[ZoneOut])
def list_zones(session: ReadSession, _: AuthorityUser, type: ZoneType | None = None) -> list[ZoneOut]:
    """All zones, optionally of one type."""
    return [zone_out(z) for z in service.list_zones(session=session, zone_type=type.value if type else None)]


@router.get("/{zone_id:int}", response_model=ZoneOut, responses=NOT_FOUND)
def get_zone(zone_id: PathId, session: ReadSession, _: AuthorityUser) -> ZoneOut:
    """One zone."""
    return zone_out(service.get_zone(session=session, zone_id=zone_id))


@router.patch("/{zone_id:int}", response_model=ZoneOut, responses=NOT_FOUND)
def update_zone(zone_id: PathId, body: ZonePatch, session: DbSession, user: AuthorityUser) -> ZoneOut:
    """Change a zone's name, type or shape."""
    return zone_out(service.update_zone(session=session, zone_id=zone_id, patch=body, actor_id=user.id))


@router.delete("/{zone_id:int}", status_code=status.HTTP_204_NO_CONTENT, responses=NOT_FOUND)
def delete_zone(zone_id: PathId, session: DbSession, user: AuthorityUser) -> None:
    """Remove a zone."""
    service.delete_zone(session=session, zone_id=zone_id, actor_id=user.id)
