"""Setting the stage through the public API: demo zones, police stations, tourists and engine keys.

With an admin's e-mail and password the simulator creates (or reuses, by name) zones and places and
makes one engine key per camera; without them it does what anyone may: tourists register themselves,
and the parts that need an authority are skipped with a warning.
"""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass, field
from typing import Any

import httpx

from safesphere.simulate.city import (
    CAMERA_SITES,
    DISTRICTS,
    PLACES,
    ZONES,
    District,
    place_name,
    zone_name,
)

TOURIST_PASSWORD = "safesphere-sim-walker"  # noqa: S105 - demo accounts on a demo server, documented
NIGHT_SHARE = 0.2
"""One tourist in five is out at night."""
DRIFTER_SHARE = 0.25
"""One tourist in four wanders into risky or restricted zones."""
HOT_SITES = frozenset({2, 3, 4})
"""Indexes of CAMERA_SITES at the edges of risky or restricted zones."""
PHONE_SHARE = 0.5
"""Half the engines are tourists' phones (key owned by the tourist), half fixed street cameras."""


@dataclass(frozen=True)
class TouristRole:
    index: int
    email: str
    night: bool
    drifter: bool


@dataclass(frozen=True)
class CameraRole:
    name: str
    key: str
    site: tuple[float, float] | None
    """A fixed camera's position; None for a phone, which reports where its owner is."""
    owner_index: int | None
    hot: bool
    """Watches the edge of a risky or restricted zone, so it sees more serious incidents."""


@dataclass
class Stage:
    tourists: list[TouristRole]
    cameras: list[CameraRole] = field(default_factory=list)
    zones: dict[str, int] = field(default_factory=lambda: {"created": 0, "reused": 0})
    places: dict[str, int] = field(default_factory=lambda: {"created": 0, "reused": 0})
    warnings: list[str] = field(default_factory=list)


def cast_tourists(rng: random.Random, count: int) -> list[TouristRole]:
    return [
        TouristRole(
            index=index,
            email=f"sim-tourist-{index:04d}@example.com",
            night=rng.random() < NIGHT_SHARE,
            drifter=rng.random() < DRIFTER_SHARE,
        )
        for index in range(count)
    ]


def admin_token(http: httpx.Client, email: str, password: str) -> str:
    response = http.post("/auth/login", json={"email": email, "password": password})
    if response.status_code != 200:
        raise RuntimeError(f"admin login failed: HTTP {response.status_code} {response.text[:200]}")
    token = str(response.json()["access_token"])
    if response.json().get("role") != "admin":
        raise RuntimeError(f"{email} is not an admin account")
    return token


def _names(body: Any, key: str) -> set[str]:
    items = body.get(key, []) if isinstance(body, dict) else body
    return {str(item.get("name")) for item in items if isinstance(item, dict)}


def ensure_zones(
    http: httpx.Client, headers: dict[str, str], districts: list[District], stage: Stage
) -> None:
    listed = http.get("/zones", headers=headers)
    if listed.status_code in (404, 405):
        stage.warnings.append("the server has no /zones endpoint yet: demo zones not created")
        return
    listed.raise_for_status()
    existing = _names(listed.json(), "zones")
    for district in districts:
        for zone in ZONES:
            name = zone_name(district, zone)
            if name in existing:
                stage.zones["reused"] += 1
                continue
            lat, lon = district.point(zone.east_km, zone.north_km)
            body = {
                "name": name,
                "type": zone.type,
                "center": {"lat": lat, "lon": lon},
                "radius_km": zone.radius_km,
            }
            http.post("/zones", json=body, headers=headers).raise_for_status()
            stage.zones["created"] += 1


def ensure_places(
    http: httpx.Client, headers: dict[str, str], districts: list[District], stage: Stage
) -> None:
    listed = http.get("/places", params={"limit": 1000}, headers=headers)
    if listed.status_code in (404, 405):
        stage.warnings.append("the server has no /places endpoint: police stations not created")
        return
    listed.raise_for_status()
    existing = _names(listed.json(), "places")
    for district in districts:
        for place in PLACES:
            name = place_name(district, place)
            if name in existing:
                stage.places["reused"] += 1
                continue
            lat, lon = district.point(place.east_km, place.north_km)
            body = {"name": name, "kind": place.kind, "lat": lat, "lon": lon}
            http.post("/places", json=body, headers=headers).raise_for_status()
            stage.places["created"] += 1


def create_cameras(
    http: httpx.Client, headers: dict[str, str], rng: random.Random, count: int, tourists: list[TouristRole]
) -> list[CameraRole]:
    """One new engine key per camera (a key's secret is shown once, so keys are made per run)."""
    run_id = secrets.token_hex(3)
    district = DISTRICTS[0]
    cameras = []
    for index in range(count):
        name = f"sim-{run_id}-cam-{index:02d}"
        body: dict[str, Any] = {"name": name}
        site, owner = None, None
        if tourists and rng.random() < PHONE_SHARE:
            owner = rng.randrange(len(tourists))
            body["owner_email"] = tourists[owner].email
        else:
            east, north = CAMERA_SITES[index % len(CAMERA_SITES)]
            site = district.point(east, north)
            body["latitude"], body["longitude"] = site
        response = http.post("/admin/keys", json=body, headers=headers)
        response.raise_for_status()
        hot = index % len(CAMERA_SITES) in HOT_SITES if owner is None else tourists[owner].drifter
        cameras.append(CameraRole(name, str(response.json()["key"]), site, owner, hot))
    return cameras
