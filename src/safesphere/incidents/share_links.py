"""Live-location share links: a HIGH or CRITICAL incident of a protected person gives its emergency
contacts a link to the person's latest fixes. Only the token's hash is kept; the links end with the
incident (after a grace period)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from safesphere.core import clock
from safesphere.core.config import Settings
from safesphere.core.db import table
from safesphere.core.errors import NotFound
from safesphere.incidents.escalation import ESCALATING_LEVELS
from safesphere.incidents.models import Incident, ShareLink
from safesphere.incidents.timeline import add_event
from safesphere.tracking.models import LocationFix

SHARE_TOKEN_BYTES = 32
"""256 random bits: guessing a live link is hopeless, so the public share route needs no login."""
_INSERT_SHARE_LINK = sa.insert(table(ShareLink))


def share_url(settings: Settings, token: str) -> str:
    return f"{settings.public_url.rstrip('/')}/share/{token}"


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_link(*, session: Session, settings: Settings, incident: Incident) -> str | None:
    """A new live-location link for a HIGH/CRITICAL incident of a protected person (only its hash is
    kept, so every batch of contact messages gets its own link; all end with the incident)."""
    if incident.threat_level not in ESCALATING_LEVELS or incident.owner_id is None:
        return None
    token = secrets.token_urlsafe(SHARE_TOKEN_BYTES)
    session.connection().execute(
        _INSERT_SHARE_LINK,
        [{"token_hash": _token_hash(token), "incident_id": incident.incident_id,
          "owner_id": incident.owner_id, "created_at": clock.now()}],
    )  # fmt: skip
    add_event(session, incident.incident_id, "share_link_created")
    return share_url(settings, token)


def end_after_grace(*, session: Session, settings: Settings, incident_id: str, now: datetime) -> None:
    """A closed incident's links stop working ``share_grace_s`` after it closed."""
    session.execute(
        sa.update(ShareLink)
        .where(ShareLink.incident_id == incident_id)
        .values(expires_at=now + timedelta(seconds=settings.share_grace_s))
    )


@dataclass(frozen=True)
class SharedLocation:
    link: ShareLink
    incident: Incident
    fixes: list[tuple[float, float, datetime, float | None]]


SHARED_FIXES = 20
"""The protected person's latest fixes a share link shows: enough to see which way they move."""


def shared_location(*, session: Session, token: str) -> SharedLocation:
    """The live location behind a share token; 404 when unknown, expired, or its incident is gone."""
    link = session.scalar(sa.select(ShareLink).where(ShareLink.token_hash == _token_hash(token)))
    if link is None or (link.expires_at is not None and link.expires_at <= clock.now()):
        raise NotFound("Share link not found or expired")
    incident = session.scalar(sa.select(Incident).where(Incident.incident_id == link.incident_id))
    if incident is None:
        raise NotFound("Share link not found or expired")
    rows = session.execute(
        sa.select(LocationFix.latitude, LocationFix.longitude, LocationFix.timestamp, LocationFix.accuracy)
        .where(LocationFix.tourist_id == link.owner_id)
        .order_by(LocationFix.timestamp.desc())
        .limit(SHARED_FIXES)
    )
    return SharedLocation(link, incident, [(r[0], r[1], r[2], r[3]) for r in rows])
