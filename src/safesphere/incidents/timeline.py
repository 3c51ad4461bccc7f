"""An incident's timeline: every change, note and escalation as an event row, and every delivery's
outcome read beside them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from safesphere.core import clock
from safesphere.core.db import table
from safesphere.core.errors import NotFound
from safesphere.incidents.models import Incident, IncidentEvent
from safesphere.notify.models import Delivery

_INSERT_EVENT = sa.insert(table(IncidentEvent)).returning(table(IncidentEvent).c.id)


def add_event(
    session: Session, incident_id: str, kind: str, *, actor_id: int | None = None, **details: Any
) -> IncidentEvent:
    """A timeline entry in the caller's transaction: one Core INSERT (pending ORM changes are flushed
    first, so the incident it belongs to exists); the returned entry is unattached."""
    session.flush()
    row = {"incident_id": incident_id, "at": clock.now(), "kind": kind, "actor_id": actor_id,
           "details": details}  # fmt: skip
    event_id = session.connection().scalar(_INSERT_EVENT, row)
    return IncidentEvent(id=event_id, **row)


def add_note(*, session: Session, incident_id: str, user_id: int, text: str) -> IncidentEvent:
    if session.scalar(sa.select(Incident.id).where(Incident.incident_id == incident_id)) is None:
        raise NotFound("Incident not found")
    event = add_event(session, incident_id, "note", actor_id=user_id, text=text)
    session.commit()
    return event


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str
    actor_id: int | None
    details: dict[str, Any]


def timeline(*, session: Session, incident_id: str) -> list[TimelineEntry]:
    """Every change, note and escalation, and every delivery's outcome, oldest first."""
    if session.scalar(sa.select(Incident.id).where(Incident.incident_id == incident_id)) is None:
        raise NotFound("Incident not found")
    events = session.scalars(
        sa.select(IncidentEvent).where(IncidentEvent.incident_id == incident_id).order_by(IncidentEvent.id)
    )
    entries = [TimelineEntry(e.at, e.kind, e.actor_id, dict(e.details)) for e in events]
    for d in session.scalars(
        sa.select(Delivery).where(Delivery.incident_id == incident_id).order_by(Delivery.id)
    ):
        facts = {
            "delivery_id": d.id, "channel": d.channel, "audience": d.audience, "recipient": d.recipient,
            "source_kind": d.source_kind, "attempts": d.attempts, "last_error": d.last_error,
        }  # fmt: skip
        entries.append(TimelineEntry(d.created_at, "delivery_queued", None, facts))
        if d.sent_at is not None:
            entries.append(TimelineEntry(d.sent_at, "delivery_sent", None, facts))
        if d.failed_at is not None:
            entries.append(TimelineEntry(d.failed_at, "delivery_failed", None, facts))
    return sorted(entries, key=lambda e: e.at)
