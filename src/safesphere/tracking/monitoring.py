"""What authorities see of tourists: latest positions and scores (one query), details, tracks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from safesphere.alerts import service as alerts_service
from safesphere.alerts.models import Alert
from safesphere.auth.models import Role, User
from safesphere.core import clock
from safesphere.core.errors import NotFound
from safesphere.geo import BoundingBox
from safesphere.tracking.contacts import list_contacts
from safesphere.tracking.models import EmergencyContact, LocationFix, TouristStatus

RECENT_ALERTS_SHOWN = 20


def list_tourists(
    *, session: Session, risk_level: str | None, bbox: BoundingBox | None, limit: int, offset: int
) -> list[tuple[User, TouristStatus]]:
    """Every tourist with a position, worst score first: one query whatever their number."""
    query = (
        sa.select(User, TouristStatus)
        .join(TouristStatus, TouristStatus.tourist_id == User.id)
        .where(User.role == Role.tourist.value)
        .order_by(TouristStatus.tourist_safety_score, User.id)
        .limit(limit)
        .offset(offset)
    )
    if risk_level is not None:
        query = query.where(TouristStatus.risk_level == risk_level)
    if bbox is not None:
        query = query.where(
            TouristStatus.latitude.between(bbox.min_lat, bbox.max_lat),
            TouristStatus.longitude.between(bbox.min_lon, bbox.max_lon),
        )
    return [(row[0], row[1]) for row in session.execute(query)]


@dataclass(frozen=True)
class TouristDetail:
    user: User
    status: TouristStatus | None
    last_fix: LocationFix | None
    """The fix the status was taken from: the dashboard shows its age and accuracy with an SOS."""
    contacts: list[EmergencyContact]
    alerts: list[Alert]


def _tourist(session: Session, tourist_id: int) -> User:
    user = session.get(User, tourist_id)
    if user is None or user.role != Role.tourist.value:
        raise NotFound("Tourist not found")
    return user


def tourist_detail(*, session: Session, tourist_id: int) -> TouristDetail:
    user = _tourist(session, tourist_id)
    status = session.get(TouristStatus, tourist_id)
    return TouristDetail(
        user=user,
        status=status,
        last_fix=session.get(LocationFix, status.last_fix_id) if status is not None else None,
        contacts=list_contacts(session=session, user_id=tourist_id),
        alerts=alerts_service.list_alerts(session=session, tourist_id=tourist_id, limit=RECENT_ALERTS_SHOWN),
    )


def tourist_track(*, session: Session, tourist_id: int, hours_back: int) -> list[LocationFix]:
    _tourist(session, tourist_id)
    since = clock.now() - timedelta(hours=hours_back)
    return list(
        session.scalars(
            sa.select(LocationFix)
            .where(LocationFix.tourist_id == tourist_id, LocationFix.timestamp >= since)
            .order_by(LocationFix.timestamp.desc(), LocationFix.id.desc())
        )
    )
