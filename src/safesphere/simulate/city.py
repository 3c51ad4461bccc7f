"""The demo city: districts with safe, restricted and risky zones, police stations and camera sites.

Every district uses the same layout around its own centre (offsets in kilometres), so the demo reads
the same in New Delhi or Tokyo. Night walkers go to whichever district is at night right now: the
server scores time of day from the fix's coordinates, so that is where night really is.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

KM_PER_DEGREE_LAT = 111.32
"""Length of one degree of latitude; longitude degrees shrink with cos(latitude)."""


@dataclass(frozen=True)
class ZoneSpec:
    name: str
    type: str
    east_km: float
    north_km: float
    radius_km: float


@dataclass(frozen=True)
class PlaceSpec:
    name: str
    kind: str
    east_km: float
    north_km: float


@dataclass(frozen=True)
class District:
    name: str
    centre: tuple[float, float]
    utc_offset_h: float
    """Standard-time offset, only to pick the district where it is night now."""

    def point(self, east_km: float, north_km: float) -> tuple[float, float]:
        lat, lon = self.centre
        dlat = north_km / KM_PER_DEGREE_LAT
        dlon = east_km / (KM_PER_DEGREE_LAT * math.cos(math.radians(lat)))
        return round(lat + dlat, 6), round(lon + dlon, 6)

    def local_hour(self, now: datetime) -> float:
        return (now.hour + now.minute / 60 + self.utc_offset_h) % 24


ZONES = (
    ZoneSpec("Old Market", "safe", 0.0, 0.0, 0.6),
    ZoneSpec("Heritage Fort", "safe", 1.5, -0.8, 0.5),
    ZoneSpec("Tourist Police Plaza", "safe", -0.6, 1.1, 0.3),
    ZoneSpec("Railway Yard Construction", "restricted", 2.0, 1.2, 0.4),
    ZoneSpec("Military Cantonment", "restricted", -2.5, -1.5, 0.8),
    ZoneSpec("Riverside After Dark", "risky", -1.8, 1.0, 0.7),
    ZoneSpec("Warehouse District", "risky", 0.8, -2.2, 0.6),
)

PLACES = (
    PlaceSpec("Central Police Station", "police_station", 0.3, 0.4),
    PlaceSpec("North Police Post", "police_station", 0.5, 2.5),
    PlaceSpec("South Police Post", "police_station", -0.5, -2.4),
    PlaceSpec("City Hospital", "hospital", 1.0, 0.9),
)

CAMERA_SITES = (
    (0.1, 0.1),
    (1.4, -0.7),
    (2.1, 1.0),
    (-1.7, 0.9),
    (0.9, -2.1),
    (-0.4, 1.2),
    (0.6, 0.6),
    (-1.0, -0.5),
)
"""Fixed cameras: squares, the fort gate, and the edges of the risky and restricted zones."""

DISTRICTS = (
    District("New Delhi", (28.6139, 77.2090), 5.5),
    District("London", (51.5074, -0.1278), 0.0),
    District("New York", (40.7128, -74.0060), -5.0),
    District("Tokyo", (35.6762, 139.6503), 9.0),
)

NIGHT_HOURS = (22.0, 5.0)
"""Local hours counted as night for choosing the night district (22:00 to 05:00)."""


def is_night(hour: float) -> bool:
    start, end = NIGHT_HOURS
    return hour >= start or hour < end


def day_district() -> District:
    return DISTRICTS[0]


def night_district(now: datetime) -> District:
    """The district deepest into its night now (closest to 02:00 local)."""
    return min(DISTRICTS, key=lambda district: abs(((district.local_hour(now) - 2.0 + 12) % 24) - 12))


def zone_name(district: District, zone: ZoneSpec) -> str:
    return f"{district.name}: {zone.name}"


def place_name(district: District, place: PlaceSpec) -> str:
    return f"{district.name}: {place.name}"
