"""Zones held in memory in an R-tree, refreshed when the zones table changes (in any process)."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import sqlalchemy as sa
from shapely import STRtree, box
from sqlalchemy.orm import Session

from safesphere.core.geo import bounding_box
from safesphere.zones.geometry import ZoneShape, parse_polygon, relation
from safesphere.zones.models import Zone


@dataclass(frozen=True)
class Nearby:
    zone: ZoneShape
    inside: bool
    distance_km: float
    bearing_deg: float | None


class ZoneIndex:
    """Answers "which zones are within r km of this point" without a query per zone."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._reloading = threading.Lock()
        self._version: tuple[int, object] | None = None
        self._zones: list[ZoneShape] = []
        self._tree: STRtree | None = None

    def refresh_if_changed(self, session: Session) -> None:
        """One cheap aggregate query; a reload only when a zone was added, changed or removed. One thread
        reloads while the others wait for its result (read-only requests refresh in parallel, and forty of
        them each parsing 10,000 zones at once would starve the server)."""
        count, latest = session.execute(sa.select(sa.func.count(Zone.id), sa.func.max(Zone.updated_at))).one()
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

    def near(self, lat: float, lon: float, radius_km: float) -> list[Nearby]:
        """Zones whose edge is within ``radius_km`` of the point (or that contain it), nearest first."""
        with self._lock:
            tree, zones = self._tree, self._zones
        if tree is None:
            return []
        area = bounding_box(lat, lon, radius_km)
        found = []
        for position in tree.query(box(area.min_lon, area.min_lat, area.max_lon, area.max_lat)):
            zone = zones[int(position)]
            inside, distance, bearing = relation(zone, lat, lon)
            if inside or distance <= radius_km:
                found.append(Nearby(zone, inside, distance, bearing))
        return sorted(found, key=lambda n: (n.distance_km, n.zone.zone_id))

    def snapshot(self) -> tuple[list[ZoneShape], STRtree | None]:
        """The zones and their tree as of the last refresh, for callers that query many points at once
        (``tree.query`` takes arrays of boxes; positions index the zone list)."""
        with self._lock:
            return self._zones, self._tree
