"""Who was last seen where: tourists' latest positions (``tourist_status``) for the other domains that warn
people nearby (``alerts.service.warn_tourists_nearby`` gets this as its ``seen_near``)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from safesphere.core.db import UTCDateTime, table
from safesphere.geo import BoundingBox
from safesphere.tracking.models import TouristStatus

_T = table(TouristStatus).c
_SEEN_NEAR = sa.select(_T.tourist_id, _T.latitude, _T.longitude).where(
    _T.latitude.between(sa.bindparam("min_lat"), sa.bindparam("max_lat")),
    _T.longitude.between(sa.bindparam("min_lon"), sa.bindparam("max_lon")),
    _T.last_seen >= sa.bindparam("seen_since", type_=UTCDateTime),
)


def seen_near(session: Session, box: BoundingBox, since: datetime) -> Iterable[tuple[int, float, float]]:
    """(tourist id, latitude, longitude) of each tourist whose latest fix is in ``box`` and not older
    than ``since`` (one indexed query, in the caller's transaction)."""
    rows = session.connection().execute(
        _SEEN_NEAR,
        {"min_lat": box.min_lat, "max_lat": box.max_lat, "min_lon": box.min_lon, "max_lon": box.max_lon,
         "seen_since": since},
    )  # fmt: skip
    return [(int(tourist_id), float(lat), float(lon)) for tourist_id, lat, lon in rows]
