"""Use cases of zones: CRUD, GeoJSON import/export."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from pydantic import ValidationError
from sqlalchemy.orm import Session

from safesphere.audit import service as audit
from safesphere.audit.models import AuditAction
from safesphere.core.errors import InvalidInput, NotFound
from safesphere.zones.geometry import parse_polygon, polygon_center_and_radius
from safesphere.zones.models import Zone
from safesphere.zones.schemas import LatLon, ZoneFeatureCollection, ZoneIn, ZonePatch


def _apply_shape(
    zone: Zone, *, center: LatLon | None, radius_km: float | None, polygon: dict[str, Any] | None
) -> None:
    if polygon is not None:
        lat, lon, radius = polygon_center_and_radius(parse_polygon(polygon))
        zone.polygon, zone.center_lat, zone.center_lon, zone.radius_km = polygon, lat, lon, radius
        return
    if center is not None:
        zone.center_lat, zone.center_lon = center.lat, center.lon
    if radius_km is not None:
        zone.radius_km = radius_km
    if center is not None or radius_km is not None:
        zone.polygon = None


def _new_zone(zone_in: ZoneIn, created_by: int | None) -> Zone:
    zone = Zone(name=zone_in.name, type=zone_in.type.value, created_by=created_by)
    _apply_shape(zone, center=zone_in.center, radius_km=zone_in.radius_km, polygon=zone_in.polygon)
    return zone


def create_zone(*, session: Session, zone_in: ZoneIn, created_by: int | None) -> Zone:
    zone = _new_zone(zone_in, created_by)
    session.add(zone)
    session.flush()
    audit.record(
        session, AuditAction.zone_created, actor_id=created_by, target=("zone", zone.id), name=zone.name
    )
    session.commit()
    return zone


def get_zone(*, session: Session, zone_id: int) -> Zone:
    zone = session.get(Zone, zone_id)
    if zone is None:
        raise NotFound("Zone not found")
    return zone


def list_zones(*, session: Session, zone_type: str | None = None) -> list[Zone]:
    query = sa.select(Zone).order_by(Zone.id)
    if zone_type is not None:
        query = query.where(Zone.type == zone_type)
    return list(session.scalars(query))


def update_zone(*, session: Session, zone_id: int, patch: ZonePatch, actor_id: int | None = None) -> Zone:
    zone = get_zone(session=session, zone_id=zone_id)
    if patch.polygon is not None and (patch.center is not None or patch.radius_km is not None):
        raise InvalidInput("give either center/radius_km or polygon, not both", loc=("body", "polygon"))
    if (
        zone.polygon is not None
        and patch.polygon is None
        and (patch.center is None) != (patch.radius_km is None)
    ):
        raise InvalidInput(
            "turning a polygon into a circle needs center and radius_km", loc=("body", "center")
        )
    if patch.name is not None:
        zone.name = patch.name
    if patch.type is not None:
        zone.type = patch.type.value
    _apply_shape(zone, center=patch.center, radius_km=patch.radius_km, polygon=patch.polygon)
    changed = sorted(patch.model_dump(exclude_unset=True))
    audit.record(
        session, AuditAction.zone_updated, actor_id=actor_id, target=("zone", zone_id), fields=changed
    )
    session.commit()
    return zone


def delete_zone(*, session: Session, zone_id: int, actor_id: int | None = None) -> None:
    zone = get_zone(session=session, zone_id=zone_id)
    session.delete(zone)
    audit.record(
        session, AuditAction.zone_deleted, actor_id=actor_id, target=("zone", zone_id), name=zone.name
    )
    session.commit()


def _feature_to_zone_in(index: int, geometry: dict[str, Any], properties: dict[str, Any]) -> ZoneIn:
    body: dict[str, Any] = {"name": properties.get("name"), "type": properties.get("type")}
    if geometry.get("type") == "Point":
        coordinates = geometry.get("coordinates") or []
        if len(coordinates) < 2:
            raise InvalidInput(
                "a Point needs [longitude, latitude]", loc=("body", "features", index, "geometry")
            )
        body["center"] = {"lat": coordinates[1], "lon": coordinates[0]}
        body["radius_km"] = properties.get("radius_km")
    else:
        body["polygon"] = geometry
    try:
        return ZoneIn.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise InvalidInput(first["msg"], loc=("body", "features", index, *map(str, first["loc"]))) from exc


def import_geojson(*, session: Session, collection: ZoneFeatureCollection, created_by: int | None) -> int:
    """Adds each feature (Polygon, or Point with a radius_km property) as a zone: all or nothing."""
    zones = [
        _new_zone(_feature_to_zone_in(i, f.geometry, f.properties), created_by)
        for i, f in enumerate(collection.features)
    ]
    session.add_all(zones)
    audit.record(session, AuditAction.zones_imported, actor_id=created_by, count=len(zones))
    session.commit()
    return len(zones)


def export_geojson(*, session: Session) -> dict[str, Any]:
    features = []
    for zone in list_zones(session=session):
        properties: dict[str, Any] = {"name": zone.name, "type": zone.type}
        if zone.polygon is not None:
            geometry = zone.polygon
        else:
            geometry = {"type": "Point", "coordinates": [zone.center_lon, zone.center_lat]}
            properties["radius_km"] = zone.radius_km
        features.append({"type": "Feature", "id": zone.id, "geometry": geometry, "properties": properties})
    return {"type": "FeatureCollection", "features": features}
