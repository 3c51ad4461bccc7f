"""Request and response bodies of the places API, including GeoJSON import/export."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from safesphere.places.models import PlaceKind

if TYPE_CHECKING:
    from safesphere.places.models import Place
    from safesphere.places.service import SafeRoute

Latitude = Field(ge=-90, le=90, strict=True, allow_inf_nan=False)
Longitude = Field(ge=-180, le=180, strict=True, allow_inf_nan=False)


class PlaceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    kind: PlaceKind
    lat: float = Latitude
    lon: float = Longitude
    address: str | None = Field(default=None, max_length=300)
    phone: str | None = Field(default=None, max_length=40)


class PlacePatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    kind: PlaceKind | None = None
    lat: float | None = Field(default=None, ge=-90, le=90, strict=True, allow_inf_nan=False)
    lon: float | None = Field(default=None, ge=-180, le=180, strict=True, allow_inf_nan=False)
    address: str | None = Field(default=None, max_length=300)
    phone: str | None = Field(default=None, max_length=40)


class PlaceOut(BaseModel):
    id: int
    name: str
    kind: PlaceKind
    lat: float
    lon: float
    address: str | None
    phone: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_place(cls, place: Place) -> PlaceOut:
        return cls(
            id=place.id,
            name=place.name,
            kind=PlaceKind(place.kind),
            lat=place.latitude,
            lon=place.longitude,
            address=place.address,
            phone=place.phone,
            created_at=place.created_at,
            updated_at=place.updated_at,
        )


class PointGeometry(BaseModel):
    type: Literal["Point"]
    coordinates: list[float] = Field(min_length=2, max_length=3)

    @field_validator("coordinates")
    @classmethod
    def _lon_lat_in_range(cls, value: list[float]) -> list[float]:
        lon, lat = value[0], value[1]
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise ValueError("coordinates must be [longitude, latitude] within range")
        return value


class PlaceProperties(BaseModel):
    model_config = ConfigDict(extra="allow")

    name: str = Field(min_length=1, max_length=200)
    kind: PlaceKind
    address: str | None = Field(default=None, max_length=300)
    phone: str | None = Field(default=None, max_length=40)


class PlaceFeature(BaseModel):
    type: Literal["Feature"]
    geometry: PointGeometry
    properties: PlaceProperties


class PlaceFeatureCollection(BaseModel):
    type: Literal["FeatureCollection"]
    features: list[PlaceFeature] = Field(max_length=10_000)


class ImportResult(BaseModel):
    imported: int


class Point(BaseModel):
    lat: float
    lon: float


class RouteOut(BaseModel):
    source: Literal["osrm", "straight_line"]
    distance_km: float
    duration_s: float
    geometry: dict[str, Any] = Field(description="GeoJSON LineString from the start to the station")


class SafeRouteOut(BaseModel):
    origin: Point
    station: PlaceOut
    distance_km: float = Field(description="Great-circle distance to the station")
    bearing_deg: float
    direction: str
    walking_minutes: float
    route: RouteOut

    @classmethod
    def from_route(cls, found: SafeRoute) -> SafeRouteOut:
        return cls(
            origin=Point(lat=found.origin_lat, lon=found.origin_lon),
            station=PlaceOut.from_place(found.station),
            distance_km=found.distance_km,
            bearing_deg=found.bearing_deg,
            direction=found.direction,
            walking_minutes=found.walking_minutes,
            route=RouteOut(
                source=found.route.source,
                distance_km=found.route.distance_km,
                duration_s=found.route.duration_s,
                geometry=found.route.geometry,
            ),
        )
