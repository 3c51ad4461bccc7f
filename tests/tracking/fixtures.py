"""Shared arrangements for the tourist-side tests: a spot in Paris, zones, located incidents, fixes."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx
from fastapi.testclient import TestClient

from tests.factories import Account, Factory
from tests.incidents.reports import report_body

SPOT = (48.8584, 2.2945)
"""Beside the Eiffel Tower (Europe/Paris, UTC+1 in November)."""


def fix_body(at: datetime, lat: float = SPOT[0], lon: float = SPOT[1], **extra: Any) -> dict[str, Any]:
    return {
        "lat": lat,
        "lon": lon,
        "altitude": 35.0,
        "speed": 1.2,
        "accuracy": 10.0,
        "timestamp": at.isoformat(),
        **extra,
    }


def restricted_zone_here(client: TestClient, officer: Account, radius_km: float = 0.5) -> dict[str, Any]:
    body = {
        "name": "Construction Site",
        "type": "restricted",
        "center": {"lat": SPOT[0], "lon": SPOT[1]},
        "radius_km": radius_km,
    }
    response = client.post("/zones", json=body, headers=officer.headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


def camera_sees_threat(
    client: TestClient,
    factory: Factory,
    at: datetime,
    level: str = "CRITICAL",
    lat: float = SPOT[0],
    lon: float = SPOT[1],
) -> str:
    """A fixed camera at (lat, lon) reports a threat that happened at ``at``; returns its incident id."""
    camera = factory.engine_key(latitude=lat, longitude=lon)
    body = report_body(timestamp=at.isoformat(), threat_level=level, is_critical=level == "CRITICAL")
    response = client.post("/threats/report", json=body, headers=camera.headers)
    assert response.status_code == 200, response.text
    return str(response.json()["incident_id"])


def send_fix(
    client: TestClient | httpx.Client, tourist: Account, at: datetime, **kwargs: Any
) -> dict[str, Any]:
    response = client.post("/location/update", json=fix_body(at, **kwargs), headers=tourist.headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


def factors_by_name(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    factors = body["ai_analysis"]["factors"] if "ai_analysis" in body else body["factors"]
    return {f["name"]: f for f in factors}


MINUTE = timedelta(minutes=1)
