"""Shared annotated types for what clients send: every integer and datetime with its range in the OpenAPI
schema, coordinates and numbers strict, so hostile input is a 422 naming the field, never a 500."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import Path, Query
from pydantic import AfterValidator, Field

from safesphere.core.errors import InvalidInput
from safesphere.geo import BoundingBox

MAX_ID = 2**31 - 1
"""The largest id both databases hold: PostgreSQL's id columns are INTEGER (32-bit), so a larger one cannot
exist (and ``WHERE id = 2^31`` is an error there, as 2^63 overflows SQLite's driver)."""

MAX_OFFSET = 10_000_000
"""Paging further than this is a scan, not a page."""

EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)
"""A client's time outside these bounds is a mistake or an attack; inside, shifting it by any time zone
stays a valid datetime (``0001-01-01T00:00:00Z`` moved to UTC+2 overflowed)."""


def _in_range(value: datetime) -> datetime:
    # Compared as wall time: converting 0001-01-01T00:00+05:00 to UTC would itself overflow. The bounds
    # are far from the calendar's edges, so an offset (at most a day) cannot matter.
    if not EARLIEST.replace(tzinfo=None) <= value.replace(tzinfo=None) < LATEST.replace(tzinfo=None):
        raise ValueError(f"must be between {EARLIEST:%Y-%m-%d} and {LATEST:%Y-%m-%d}")
    return value


Instant = Annotated[datetime, AfterValidator(_in_range)]
"""A datetime a client sends (body or query): aware or naive, between EARLIEST and LATEST."""

PathId = Annotated[int, Path(ge=1, le=MAX_ID)]
"""A row id in the path."""

QueryId = Annotated[int, Query(ge=1, le=MAX_ID)]
"""A row id as a query filter."""

Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Skip this many rows.")]

Latitude = Annotated[float, Field(ge=-90, le=90, strict=True, allow_inf_nan=False)]
"""Degrees north, a JSON number: ``true`` and ``"48.8"`` are refused, not read as 1.0 and 48.8."""

Longitude = Annotated[float, Field(ge=-180, le=180, strict=True, allow_inf_nan=False)]
"""Degrees east, a JSON number."""


def parse_bbox(bbox: str | None) -> BoundingBox | None:
    """``min_lon,min_lat,max_lon,max_lat`` (the GeoJSON order) into a box; 422 names the parameter."""
    if bbox is None:
        return None
    try:
        min_lon, min_lat, max_lon, max_lat = (float(part) for part in bbox.split(","))
    except ValueError as exc:
        raise InvalidInput("bbox must be min_lon,min_lat,max_lon,max_lat", loc=("query", "bbox")) from exc
    if not (-180 <= min_lon <= max_lon <= 180 and -90 <= min_lat <= max_lat <= 90):
        raise InvalidInput("bbox corners out of range or in the wrong order", loc=("query", "bbox"))
    return BoundingBox(min_lat, min_lon, max_lat, max_lon)
