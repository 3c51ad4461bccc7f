"""Request and response bodies of the zones API."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from safesphere.zones.geometry import parse_polygon
from safesphere.zones.models import ZoneType

MAX_RADIUS_KM = 100.0
"""A zone bigger than a metropolis is a mistake, not a zone."""


class LatLon(BaseModel):
    lat: float = Field(ge=-90, le=90, strict=True, allow_inf_nan=False)
    lon: float = Field(ge=-180, le=180, strict=True, allow_inf_nan=False)


def _valid_polygon(value: dict[str, Any] | None) -> dict[str, Any] | None:
    if value is not None:
        parse_polygon(value)
    return value


class ZoneIn(BaseModel):
    """A circle (`center` + `radius_km`) or a GeoJSON `polygon`."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    type: ZoneType
    center: LatLon | None = None
    radius_km: float | None = Field(default=None, gt=0, le=MAX_RADIUS_KM)
    polygon: dict[str, Any] | None = None

    _polygon_ok = field_validator("polygon")(_valid_polygon)

    @model_validator(mode="after")
    def _one_shape(self) -> ZoneIn:
        circle = self.center is not None or self.radius_km is not None
        if self.polygon is not None and circle:
            raise ValueError("give either center + radius_km or polygon, not both")
        if self.polygon is None and (self.center is None or self.radius_km is None):
            raise ValueError("a circle needs both center and radius_km (or give a polygon)")
        return self


class ZonePatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    type: ZoneType | None = None
    center: LatLon | None = None
    radius_km: float | None = Field(default=None, gt=0, le=MAX_RADIUS_KM)
    polygon: dict[str, Any] | None = None

    _polygon_ok = field_validator("polygon")(_valid_polygon)


class ZoneOut(BaseModel):
    id: int
    name: str
    type: ZoneType
    center: LatLon
    radius_km: float
    polygon: dict[str, Any] | None
    created_at: datetime
    updated_at: datetime


class ZoneFeature(BaseModel):
    type: Literal["Feature"]
    geometry: dict[str, Any]
    properties: dict[str, Any]


class ZoneFeatureCollection(BaseModel):
    type: Literal["FeatureCollection"]
    features: list[ZoneFeature] = Field(max_length=10_000)


class ZoneImportResult(BaseModel):
    imported: int
