"""Tourists walking the city: from sight to sight at walking pace, with GPS noise; drifters wander into
risky and restricted zones. Pure: a seeded generator and simulated seconds in, fixes out."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

from safesphere.simulate.city import PLACES, ZONES, District

WALKING_SPEED_M_S = (0.9, 1.6)
"""Typical sightseeing pace."""
RIDE_SPEED_M_S = (6.0, 11.0)
"""An auto-rickshaw or taxi leg between sights."""
RIDE_PROBABILITY = 0.1
DRIFT_PROBABILITY = 0.6
"""A drifter's next destination is inside a risky or restricted zone this often."""
ARRIVAL_M = 25.0
GPS_ACCURACY_M = (3.0, 18.0)
METRES_PER_KM = 1000.0


@dataclass(frozen=True)
class Fix:
    lat: float
    lon: float
    speed: float
    accuracy: float
    altitude: float


@dataclass
class Walker:
    """One tourist's position in kilometres east/north of the district centre."""

    district: District
    drifter: bool
    east_km: float = 0.0
    north_km: float = 0.0
    target: tuple[float, float] = (0.0, 0.0)
    speed_m_s: float = 1.2
    altitude_m: float = field(default=215.0)

    @classmethod
    def start(cls, rng: random.Random, district: District, *, drifter: bool) -> Walker:
        walker = cls(
            district=district, drifter=drifter, east_km=rng.uniform(-1, 1), north_km=rng.uniform(-1, 1)
        )
        walker.altitude_m = rng.uniform(200, 230)
        walker._choose_target(rng)
        return walker

    def _choose_target(self, rng: random.Random) -> None:
        if self.drifter and rng.random() < DRIFT_PROBABILITY:
            zone = rng.choice([z for z in ZONES if z.type != "safe"])
            angle, reach = rng.uniform(0, 2 * math.pi), rng.uniform(0, zone.radius_km * 0.8)
            self.target = (zone.east_km + reach * math.cos(angle), zone.north_km + reach * math.sin(angle))
        else:
            sights = [(z.east_km, z.north_km) for z in ZONES if z.type == "safe"]
            sights += [(p.east_km, p.north_km) for p in PLACES]
            self.target = rng.choice(sights)
        band = RIDE_SPEED_M_S if rng.random() < RIDE_PROBABILITY else WALKING_SPEED_M_S
        self.speed_m_s = rng.uniform(*band)

    def advance(self, rng: random.Random, seconds: float) -> Fix:
        """Move for ``seconds`` toward the current destination and report a noisy GPS fix."""
        east, north = self.target[0] - self.east_km, self.target[1] - self.north_km
        remaining_m = math.hypot(east, north) * METRES_PER_KM
        step_m = min(remaining_m, self.speed_m_s * seconds)
        if remaining_m > 0:
            self.east_km += east / remaining_m * step_m
            self.north_km += north / remaining_m * step_m
        if remaining_m - step_m < ARRIVAL_M:
            self._choose_target(rng)
        accuracy = rng.uniform(*GPS_ACCURACY_M)
        noise_km = accuracy / METRES_PER_KM / 2
        lat, lon = self.district.point(
            self.east_km + rng.gauss(0, noise_km), self.north_km + rng.gauss(0, noise_km)
        )
        speed = max(0.0, self.speed_m_s + rng.gauss(0, 0.15)) if step_m else 0.0
        return Fix(lat, lon, round(speed, 2), round(accuracy, 1), round(self.altitude_m + rng.gauss(0, 1), 1))

    @property
    def position(self) -> tuple[float, float]:
        return self.district.point(self.east_km, self.north_km)
