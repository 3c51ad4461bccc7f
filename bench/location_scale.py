"""A city at the issue's scale, bulk-loaded straight into a migrated SafeSphere database.

``full``: 100k alerts, 10k zones, 50k tourists, 1M fixes (issue 3/5). The data is spread the way a real
deployment's would be: alerts over a 40 x 40 km metro area and the past year, zones scattered as small
circles and squares, tourists each with 20 fixes over the past week and their latest one in the past
hour. The benchmark's own tourists then post fixes through the API into the middle of it.
"""

from __future__ import annotations

import math
import random
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bench.city import CITY_CENTRE
from bench.servers import REPO_ROOT, clean_env, safesphere_command
from safesphere.alerts.models import Alert
from safesphere.auth.models import User
from safesphere.geo import grid_cell
from safesphere.tracking.models import LocationFix, TouristStatus
from safesphere.zones.models import Zone


@dataclass(frozen=True)
class CitySize:
    alerts: int
    zones: int
    tourists: int
    fixes: int


SIZES = {
    "full": CitySize(alerts=100_000, zones=10_000, tourists=50_000, fixes=1_000_000),
    "tiny": CitySize(alerts=500, zones=50, tourists=100, fixes=2_000),
}
METRO_HALF_SIDE_DEG = 0.18
"""About 40 x 40 km around the city centre."""
ALERT_HISTORY = timedelta(days=365)
FIX_HISTORY = timedelta(days=7)
LATEST_FIX_WITHIN = timedelta(hours=1)
CHUNK = 20_000
"""Rows per INSERT batch: big enough to be fast, small enough to keep memory flat."""
SEVERITIES = ("low", "medium", "medium", "high", "high", "critical")
ALERT_TYPES = ("incident", "incident", "incident", "anomaly", "sos")
ZONE_TYPES = ("restricted", "risky", "risky", "safe")


def _point(rng: random.Random) -> tuple[float, float]:
    return (
        CITY_CENTRE[0] + rng.uniform(-METRO_HALF_SIDE_DEG, METRO_HALF_SIDE_DEG),
        CITY_CENTRE[1] + rng.uniform(-METRO_HALF_SIDE_DEG, METRO_HALF_SIDE_DEG),
    )


def _chunks(rows: Iterator[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _alerts(count: int, rng: random.Random, now: datetime) -> Iterator[dict[str, Any]]:
    for n in range(count):
        lat, lon = _point(rng)
        occurred = now - timedelta(seconds=rng.uniform(0, ALERT_HISTORY.total_seconds()))
        yield {
            "type": rng.choice(ALERT_TYPES),
            "severity": rng.choice(SEVERITIES),
            "title": f"Loaded alert {n}",
            "description": "bench city",
            "latitude": lat,
            "longitude": lon,
            "cell": grid_cell(lat, lon),
            "occurred_at": occurred,
            "status": "resolved" if occurred < now - timedelta(days=1) else "open",
            "resolved_at": occurred + timedelta(hours=2) if occurred < now - timedelta(days=1) else None,
            "created_at": occurred,
        }


def _square(lat: float, lon: float, half_km: float) -> dict[str, Any]:
    dlat = half_km / 111.195
    dlon = dlat / math.cos(math.radians(lat))
    ring = [
        [lon - dlon, lat - dlat],
        [lon + dlon, lat - dlat],
        [lon + dlon, lat + dlat],
        [lon - dlon, lat + dlat],
    ]
    return {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}


def _zones(count: int, rng: random.Random, now: datetime) -> Iterator[dict[str, Any]]:
    for n in range(count):
        lat, lon = _point(rng)
        radius = rng.uniform(0.05, 0.4)
        polygon = _square(lat, lon, radius / math.sqrt(2)) if n % 4 == 0 else None
        yield {
            "name": f"Zone {n}",
            "type": rng.choice(ZONE_TYPES),
            "center_lat": lat,
            "center_lon": lon,
            "radius_km": radius,
            "polygon": polygon,
            "created_at": now,
            "updated_at": now,
        }


def _users(count: int, now: datetime) -> Iterator[dict[str, Any]]:
    for n in range(count):
        yield {
            "email": f"city-tourist-{n}@example.com",
            "password_hash": "!loaded",  # no password verifies against this: these accounts cannot log in
            "role": "tourist",
            "is_active": True,
            "created_at": now,
            "updated_at": now,
        }


def _fixes(
    tourist_ids: list[int], per_tourist: int, rng: random.Random, now: datetime
) -> Iterator[dict[str, Any]]:
    for tourist_id in tourist_ids:
        lat, lon = _point(rng)
        latest = now - timedelta(seconds=rng.uniform(0, LATEST_FIX_WITHIN.total_seconds()))
        step = FIX_HISTORY / per_tourist
        for k in range(per_tourist):
            lat += rng.uniform(-0.002, 0.002)
            lon += rng.uniform(-0.002, 0.002)
            score = round(rng.uniform(35, 98), 2)
            yield {
                "tourist_id": tourist_id,
                "latitude": lat,
                "longitude": lon,
                "cell": grid_cell(lat, lon),
                "altitude": 215.0,
                "speed": round(rng.uniform(0, 2), 2),
                "accuracy": 10.0,
                "timestamp": latest - step * (per_tourist - 1 - k),
                "safety_score": score,
                "tourist_safety_score": score,
                "risk_level": "low" if score >= 80 else "medium" if score >= 60 else "high",
                "created_at": now,
            }


def _statuses(connection: sa.Connection, tourist_ids: list[int]) -> Iterator[dict[str, Any]]:
    """Each loaded tourist's status from their latest fix (read back in one ordered scan)."""
    latest: dict[int, Any] = {}
    fixes = LocationFix.__table__
    for row in connection.execute(
        sa.select(fixes.c.id, fixes.c.tourist_id, fixes.c.latitude, fixes.c.longitude, fixes.c.timestamp,
                  fixes.c.safety_score, fixes.c.risk_level)
        .where(fixes.c.tourist_id.between(min(tourist_ids), max(tourist_ids)))
        .order_by(fixes.c.tourist_id, fixes.c.timestamp)
    ):  # fmt: skip
        latest[row.tourist_id] = row
    for row in latest.values():
        yield {
            "tourist_id": row.tourist_id,
            "last_fix_id": row.id,
            "latitude": row.latitude,
            "longitude": row.longitude,
            "last_seen": row.timestamp,
            "location_safety_score": row.safety_score,
            "tourist_safety_score": row.safety_score,
            "risk_level": row.risk_level,
            "updated_at": row.timestamp,
        }


def _insert(connection: sa.Connection, table: sa.Table, rows: Iterator[dict[str, Any]]) -> None:
    for chunk in _chunks(rows):
        connection.execute(table.insert(), chunk)


def migrate(data_dir: Path) -> None:
    """The schema, made by the user's own command."""
    data_dir.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [safesphere_command(), "db", "upgrade"], env=clean_env(data_dir), cwd=REPO_ROOT, check=True,
        capture_output=True,
    )  # fmt: skip


def _engine(data_dir: Path) -> sa.Engine:
    return sa.create_engine(f"sqlite:///{data_dir / 'safesphere.db'}")


def _checkpoint(engine: sa.Engine) -> None:
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()


def load(data_dir: Path, size: CitySize, *, seed: int = 11) -> None:
    """A migrated database in ``data_dir`` filled with a city of ``size`` (no ANALYZE: the query plans
    are the ones a real server gets)."""
    migrate(data_dir)
    rng = random.Random(seed)
    now = datetime.now(UTC)
    engine = _engine(data_dir)
    with engine.begin() as connection:
        _insert(connection, Zone.__table__, _zones(size.zones, rng, now))  # type: ignore[arg-type]
        first_id = (connection.scalar(sa.select(sa.func.max(User.id))) or 0) + 1
        _insert(connection, User.__table__, _users(size.tourists, now))  # type: ignore[arg-type]
        tourist_ids = list(range(first_id, first_id + size.tourists))
        per_tourist = max(1, size.fixes // size.tourists)
        fixes = _fixes(tourist_ids, per_tourist, rng, now)
        _insert(connection, LocationFix.__table__, fixes)  # type: ignore[arg-type]
        _insert(connection, TouristStatus.__table__, _statuses(connection, tourist_ids))  # type: ignore[arg-type]
    _checkpoint(engine)
    add_alerts(data_dir, size.alerts, seed=seed)


def add_alerts(data_dir: Path, count: int, *, seed: int = 11) -> None:
    """``count`` more alerts spread over the metro area and the past year."""
    engine = _engine(data_dir)
    with engine.begin() as connection:
        _insert(connection, Alert.__table__, _alerts(count, random.Random(seed), datetime.now(UTC)))  # type: ignore[arg-type]
    _checkpoint(engine)


def copy(template_dir: Path, data_dir: Path) -> Path:
    """A fresh copy of a loaded city for one server run (the template stays untouched)."""
    if data_dir.exists():
        shutil.rmtree(data_dir)
    shutil.copytree(template_dir, data_dir)
    return data_dir
