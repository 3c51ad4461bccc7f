"""Walking routes from an OSRM-compatible routing service, with the straight line as the fallback."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import httpx

from safesphere.geo import haversine_km

log = logging.getLogger(__name__)

WALKING_SPEED_MPS = 1.4
"""Typical adult walking pace (5 km/h), used for the straight-line estimate and walking_minutes."""


@dataclass(frozen=True)
class Route:
    source: str
    distance_km: float
    duration_s: float
    geometry: dict[str, Any]


def straight_line(lat1: float, lon1: float, lat2: float, lon2: float) -> Route:
    distance_km = haversine_km(lat1, lon1, lat2, lon2)
    return Route(
        source="straight_line",
        distance_km=round(distance_km, 3),
        duration_s=round(distance_km * 1000 / WALKING_SPEED_MPS, 1),
        geometry={"type": "LineString", "coordinates": [[lon1, lat1], [lon2, lat2]]},
    )


def osrm_walking_route(
    base_url: str, lat1: float, lon1: float, lat2: float, lon2: float, *, timeout_s: float
) -> Route | None:
    """The OSRM service's foot route, or None when it is unreachable or finds none."""
    url = f"{base_url.rstrip('/')}/route/v1/foot/{lon1},{lat1};{lon2},{lat2}"
    try:
        response = httpx.get(url, params={"overview": "full", "geometries": "geojson"}, timeout=timeout_s)
        response.raise_for_status()
        body = response.json()
        if body.get("code") != "Ok" or not body.get("routes"):
            log.warning("routing service found no route", extra={"code": body.get("code")})
            return None
        best = body["routes"][0]
        geometry = best["geometry"]
        if geometry.get("type") != "LineString":
            return None
        return Route(
            source="osrm",
            distance_km=round(float(best["distance"]) / 1000, 3),
            duration_s=round(float(best["duration"]), 1),
            geometry=geometry,
        )
    except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
        log.warning("routing service failed; using the straight line", extra={"error": str(exc)})
        return None


def walking_route(
    routing_url: str | None, lat1: float, lon1: float, lat2: float, lon2: float, *, timeout_s: float
) -> Route:
    """A real walking route when a routing service is configured and answers, else the straight line."""
    if routing_url:
        route = osrm_walking_route(routing_url, lat1, lon1, lat2, lon2, timeout_s=timeout_s)
        if route is not None:
            return route
    return straight_line(lat1, lon1, lat2, lon2)
