"""Tourists for the location benchmarks, made through the public API, and what the server offers."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from typing import Any

import httpx

CITY_CENTRE = (28.6139, 77.2090)
CITY_SPREAD_DEG = 0.05
"""About 5 km around the centre: a city district's cameras and tourists."""

BENCH_PASSWORD = "bench-password-0123"  # noqa: S105 - a throwaway account on a throwaway server


def register_tourists(url: str, count: int) -> list[str]:
    """``count`` tourist accounts (``POST /auth/register``) and their bearer tokens."""
    tokens = []
    with httpx.Client(base_url=url, timeout=30) as client:
        for index in range(count):
            email = f"bench-tourist-{index}@example.com"
            client.post("/auth/register", json={"email": email, "password": BENCH_PASSWORD})
            login = client.post("/auth/login", json={"email": email, "password": BENCH_PASSWORD})
            login.raise_for_status()
            tokens.append(login.json()["access_token"])
    return tokens


def location_bodies(count: int, *, seed: int = 3) -> list[str]:
    """Fixes scattered over the city, stamped now (the server refuses fixes from the future)."""
    rng = random.Random(seed)
    now = datetime.now(UTC).isoformat()
    bodies = []
    for _ in range(count):
        fix: dict[str, Any] = {
            "lat": round(CITY_CENTRE[0] + rng.uniform(-CITY_SPREAD_DEG, CITY_SPREAD_DEG), 6),
            "lon": round(CITY_CENTRE[1] + rng.uniform(-CITY_SPREAD_DEG, CITY_SPREAD_DEG), 6),
            "altitude": round(rng.uniform(200, 230), 1),
            "speed": round(rng.uniform(0, 2), 2),
            "accuracy": round(rng.uniform(3, 20), 1),
            "timestamp": now,
        }
        bodies.append(json.dumps(fix))
    return bodies


def location_requests(tokens: list[str], bodies: list[str]) -> list[dict[str, Any]]:
    return [
        {
            "method": "POST",
            "path": "/location/update",
            "headers": {"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
            "body": body,
        }
        for token, body in zip(tokens * (len(bodies) // len(tokens) + 1), bodies, strict=False)
    ]
