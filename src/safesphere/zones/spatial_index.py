"""Zones held in memory in an R-tree, refreshed when the zones table changes (in any process).

A use case asks for a refresh before it reads the index; that costs one aggregate query (the table's
version), except on PostgreSQL while the process's listener is connected: then the version is only read
again after ``zones`` was announced, or ``announcements_catch_up_s`` after the last read."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
import shapely
import sqlalchemy as sa
from shapely import STRtree, box
from shapely.geometry import Point
from sqlalchemy.orm import Session

from safesphere.core.announcements import Announcements
from safesphere.core.config import Settings
from safesphere.geo import EARTH_RADIUS_KM, bounding_box
from safesphere.zones.geometry import ZoneShape, parse_polygon
from safesphere.zones.models import Zone


class Nearby(NamedTuple):
    """A zone near a point. A named tuple: a 3 km search in a dense city makes a couple of hundred, and
    a tuple is made several times faster than a frozen dataclass."""

    zone: ZoneShape
    inside: bool
    distance_km: float
    bearing_deg: float | None


_VERSION = sa.select(
    sa.select(sa.func.count()).select_from(Zone).scalar_subquery(),
    sa.select(sa.func.max(Zone.updated_at)).scalar_subquery(),
)
"""The zone table's version: two separate subqueries, so the count walks the table's b-tree and the max
reads one entry of the ``updated_at`` index (one query over both scanned every zone, ~1.5 ms at 10k)."""


_committed_here = [0]
"""Zone changes committed by this process: its own are known at once, before their announcement is heard."""
_CHANGED = "safesphere.zones_changed"


@sa.event.listens_for(Session, "after_flush")
def _note_zone_changes(session: Session, _context: object) -> None:
    if any(isinstance(row, Zone) for row in (*session.new, *session.dirty, *session.deleted)):
        session.info[_CHANGED] = True


@sa.event.listens_for(Session, "after_commit")
def _count_zone_commits(session: Session) -> None:
    if session.info.pop(_CHANGED, False):
        _committed_here[0] += 1


class ZoneIndex:
    """Answers "which zones are within r km of this point" without a query per zone."""

    def __init__(self, announcements: Announcements | None = None, settings: Settings | None = None) -> None:
        self._lock = threading.Lock()
        self._reloading = threading.Lock()
        self._version: tuple[int, object] | None = None
        self._zones: list[ZoneShape] = []
        self._tree: STRtree | None = None
        self._announcements = announcements
        self._catch_up_s = settings.announcements_catch_up_s if settings is not None else 0.0
        self._checked: tuple[int, float] | None = None
        """(zones' announcement generation, monotonic time) when the version was last read."""

    def _known_current(self) -> bool:
        """Whether nothing can have changed since the last version read: the listener has been connected
        since, no ``zones`` announcement came, and the catch-up time has not run out."""
        announcements, checked = self._announcements, self._checked
        if announcements is None or checked is None or not announcements.listening:
            return False
        generation, at = checked
        return generation == self._generation() and time.monotonic() - at < self._catch_up_s

    def _generation(self) -> int:
        announced = self._announcements.generation("zones") if self._announcements is not None else 0
        return announced + _committed_here[0]

    def refresh_if_changed(self, session: Session) -> None:
        """One cheap aggregate query (none while announcements vouch for the index); a reload only when a
        zone was added, changed or removed. One thread reloads while the others wait for its result
        (read-only requests refresh in parallel, and forty of them each parsing 10,000 zones at once would
        starve the server)."""
        if self._known_current():
            return
        # Taken before the read: an announcement arriving during it makes the next refresh read again.
        generation = self._generation()
        checked_at = time.monotonic()
        count, latest = session.execute(_VERSION).one()
        self._checked = (generation, checked_at)
        version = (int(count), latest)
        if version == self._version:
            return
        with self._reloading:
            if version != self._version:
                self._reload(session, version)

    def _reload(self, session: Session, version: tuple[int, object]) -> None:
        zones = [
            ZoneShape(
                zone_id=z.id,
                name=z.name,
                type=z.type,
                center_lat=z.center_lat,
                center_lon=z.center_lon,
                radius_km=z.radius_km,
                polygon=parse_polygon(z.polygon) if z.polygon else None,
            )
            for z in session.scalars(sa.select(Zone).order_by(Zone.id))
        ]
        envelopes = []
        for zone in zones:
            outer = bounding_box(zone.center_lat, zone.center_lon, zone.radius_km)
            envelopes.append(box(outer.min_lon, outer.min_lat, outer.max_lon, outer.max_lat))
        with self._lock:
            self._zones = zones
            self._tree = STRtree(envelopes) if envelopes else None
            self._version = version

    def near(
        self, lat: float, lon: float, radius_km: float, types: frozenset[str] | None = None
    ) -> list[Nearby]:
        """Zones (of ``types``, default all) whose edge is within ``radius_km`` of the point (or that
        contain it), nearest first.

        Measured as ``geometry.relation`` measures them (the same arithmetic, so the same numbers), but
        the polygons among the candidates are measured together in a few array calls: one at a time they
        cost ~70 us each, and a 3 km search in a dense city has dozens of them.
        """
        with self._lock:
            tree, zones = self._tree, self._zones
        if tree is None:
            return []
        area = bounding_box(lat, lon, radius_km)
        circles: list[ZoneShape] = []
        polygons: list[ZoneShape] = []
        for position in tree.query(box(area.min_lon, area.min_lat, area.max_lon, area.max_lat)).tolist():
            zone = zones[position]
            if types is None or zone.type in types:
                (circles if zone.polygon is None else polygons).append(zone)
        found = _circles_near(circles, lat, lon, radius_km)
        if polygons:
            found += _polygons_near(polygons, lat, lon, radius_km)
        return sorted(found, key=lambda n: (n.distance_km, n.zone.zone_id))

    def snapshot(self) -> tuple[list[ZoneShape], STRtree | None]:
        """The zones and their tree as of the last refresh, for callers that query many points at once
        (``tree.query`` takes arrays of boxes; positions index the zone list)."""
        with self._lock:
            return self._zones, self._tree


def _circles_near(zones: list[ZoneShape], lat: float, lon: float, radius_km: float) -> list[Nearby]:
    """``relation`` for circles: ``haversine_km`` and ``initial_bearing_deg`` from the point to each centre,
    fused into the same operations on shared terms (so the same numbers), the bearing only for a zone that
    is kept. The hottest loop of a location update, hence the local names."""
    sin, cos, radians = math.sin, math.cos, math.radians
    phi1 = radians(lat)
    cos_phi1, sin_phi1 = cos(phi1), sin(phi1)
    found = []
    for zone in zones:
        phi2 = radians(zone.center_lat)
        cos_phi2 = cos(phi2)
        dlmb = radians(zone.center_lon - lon)
        a = sin((phi2 - phi1) / 2) ** 2 + cos_phi1 * cos_phi2 * sin(dlmb / 2) ** 2
        to_center = 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))
        if to_center <= zone.radius_km:
            found.append(Nearby(zone, True, 0.0, None))
        elif to_center - zone.radius_km <= radius_km:
            x = sin(dlmb) * cos_phi2
            y = cos_phi1 * sin(phi2) - sin_phi1 * cos_phi2 * cos(dlmb)
            bearing = (math.degrees(math.atan2(x, y)) + 360.0) % 360.0
            found.append(Nearby(zone, False, to_center - zone.radius_km, bearing))
    return found


def _polygons_near(zones: list[ZoneShape], lat: float, lon: float, radius_km: float) -> list[Nearby]:
    """``relation`` for many polygons at once: the point-in-polygon test, then for those outside the
    distance and nearest point of their outer ring in the local projection centred on the point."""
    covered = shapely.covers([z.polygon for z in zones], Point(lon, lat))
    found = [Nearby(z, True, 0.0, None) for z, inside in zip(zones, covered, strict=True) if inside]
    outside = [z for z, inside in zip(zones, covered, strict=True) if not inside]
    if not outside:
        return found
    rings = shapely.transform(shapely.get_exterior_ring([z.polygon for z in outside]), _projection(lat, lon))
    origin = Point(0.0, 0.0)
    distances = shapely.distance(origin, rings)
    ends = shapely.get_coordinates(shapely.shortest_line(origin, rings)).reshape(-1, 2, 2)[:, 1]
    for zone, distance, (x, y) in zip(outside, distances.tolist(), ends.tolist(), strict=True):
        if distance <= radius_km:
            bearing = (math.degrees(math.atan2(x, y)) + 360.0) % 360.0
            found.append(Nearby(zone, False, distance, bearing))
    return found


def _projection(lat0: float, lon0: float) -> Callable[[npt.NDArray[np.float64]], npt.NDArray[np.float64]]:
    """``geometry._project`` over an array of (lon, lat) rows, operation for operation (bit-identical)."""
    x_scale = math.cos(math.radians(lat0))

    def project(coords: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        x = np.radians(coords[:, 0] - lon0) * x_scale * EARTH_RADIUS_KM
        y = np.radians(coords[:, 1] - lat0) * EARTH_RADIUS_KM
        return np.column_stack((x, y))

    return project
