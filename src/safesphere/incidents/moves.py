"""An authority's moves on an incident (acknowledge, dispatch, resolve, false alarm) and what closing one
ends; the legal moves themselves are ``lifecycle``'s (pure)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from safesphere.alerts import service as alerts_service
from safesphere.alerts.models import AlertStatus
from safesphere.audit import service as audit
from safesphere.core import clock
from safesphere.core.config import Settings
from safesphere.core.errors import Conflict, DomainError, NotFound
from safesphere.devices import service as devices_service
from safesphere.incidents import lifecycle, share_links
from safesphere.incidents.lifecycle import Move
from safesphere.incidents.models import Incident
from safesphere.incidents.timeline import add_event
from safesphere.units import service as units_service

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MoveDetails:
    notes: str | None = None
    unit: str | None = None
    unit_id: int | None = None
    """A registered unit to dispatch (``unit`` is then its name): marked dispatched in the move's
    transaction, and released when the incident closes."""


def move(
    *,
    session: Session,
    settings: Settings,
    incident_id: str,
    action: Move,
    user_id: int,
    details: MoveDetails,
) -> Incident:
    """Apply an authority's move with a conditional UPDATE on the current status, so two officers racing
    cannot both win; an illegal move is a 409 naming the current status."""
    rule = lifecycle.transition(action)
    if details.unit_id is not None:  # a registered unit: 422 unknown, 409 not available, before any write
        name = units_service.dispatchable_name(session=session, unit_id=details.unit_id)
        details = MoveDetails(notes=details.notes, unit=name, unit_id=details.unit_id)
    now = clock.now()
    values: dict[str, Any] = {"status": rule.target.value, "updated_at": now}
    if action is Move.acknowledge or action is Move.dispatch:
        values |= {"next_escalation_at": None}
    if action is Move.acknowledge:
        created = session.scalar(sa.select(Incident.created_at).where(Incident.incident_id == incident_id))
        waited_ms = round((now - created).total_seconds() * 1000) if created is not None else None
        values |= {"acknowledged_at": now, "acknowledged_by": user_id, "time_to_acknowledge_ms": waited_ms}
    elif action is Move.dispatch:
        values |= {"dispatched_at": now, "dispatch_unit": details.unit}
    else:
        values |= {"resolved_at": now, "next_escalation_at": None}
    result = session.execute(
        sa.update(Incident)
        .where(Incident.incident_id == incident_id, Incident.status.in_([s.value for s in rule.sources]))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        current = session.scalar(sa.select(Incident.status).where(Incident.incident_id == incident_id))
        session.rollback()
        if current is None:
            raise NotFound("Incident not found")
        raise Conflict(
            f"Cannot {action.value.replace('_', ' ')} an incident that is {current}"
            + (" (move the open incident it was grouped into)" if current == "grouped" else "")
        )
    _cover_grouped_reports(session, incident_id, action, values)
    registered: dict[str, Any] = {} if details.unit_id is None else {"unit_id": details.unit_id}
    if details.unit_id is not None:
        _dispatch_unit(session, details.unit_id, incident_id, user_id)
    add_event(session, incident_id, rule.event, actor_id=user_id, notes=details.notes, unit=details.unit,
              **registered)  # fmt: skip
    sent: dict[str, Any] = {"unit": details.unit, **registered} if action is Move.dispatch else {}
    audit.record(
        session, f"incident.{rule.event}", actor_id=user_id, target=("incident", incident_id), **sent
    )
    if action in (Move.resolve, Move.false_alarm):
        _after_close(session, settings, incident_id, action, user_id, now)
    session.commit()
    incident = session.scalar(sa.select(Incident).where(Incident.incident_id == incident_id))
    if incident is None:  # deleted between our commit and this read
        raise NotFound("Incident not found")
    session.refresh(incident)
    log.info(
        "incident %s %s", incident_id, rule.event, extra={"incident_id": incident_id, "user_id": user_id}
    )
    return incident


def _after_close(
    session: Session, settings: Settings, incident_id: str, action: Move, user_id: int, now: datetime
) -> None:
    """What closing an incident ends: its alerts, its units' assignments, the device's recording, the
    share links (after the grace period)."""
    _close_what_it_caused(session, incident_id, action, user_id, now)
    units_service.release_incident(session=session, incident_id=incident_id, at=now)
    stops = devices_service.stop_for_incident(session=session, incident_id=incident_id)
    if stops:
        add_event(session, incident_id, "commands_issued", commands=[c.type for c in stops])
    share_links.end_after_grace(session=session, settings=settings, incident_id=incident_id, now=now)


def _dispatch_unit(session: Session, unit_id: int, incident_id: str, user_id: int) -> None:
    """The units domain marks the unit dispatched; a unit taken meanwhile undoes the whole move."""
    try:
        units_service.dispatch(session=session, unit_id=unit_id, incident_id=incident_id, user_id=user_id)
    except DomainError:
        session.rollback()
        raise


GROUPED_FOLLOW = {
    Move.acknowledge: ("acknowledged_at", "acknowledged_by", "updated_at"),
    Move.dispatch: ("dispatched_at", "dispatch_unit", "updated_at"),
    Move.resolve: ("status", "resolved_at", "updated_at"),
    Move.false_alarm: ("status", "resolved_at", "updated_at"),
}
"""What a move of an open incident stamps on the reports grouped into it: they stay ``grouped`` (not
cases of their own: metrics and escalation count cases) until the case closes, then take its status."""


def _cover_grouped_reports(session: Session, incident_id: str, action: Move, values: dict[str, Any]) -> None:
    followed = {name: values[name] for name in GROUPED_FOLLOW[action]}
    session.execute(
        sa.update(Incident)
        .where(Incident.grouped_into == incident_id)
        .values(**followed)
        .execution_options(synchronize_session=False)
    )


def _close_what_it_caused(
    session: Session, incident_id: str, action: Move, user_id: int, now: datetime
) -> None:
    outcome = AlertStatus.false_alarm if action is Move.false_alarm else AlertStatus.resolved
    closed = alerts_service.close_incident_alerts(
        session=session, incident_id=incident_id, outcome=outcome, user_id=user_id, at=now
    )
    if closed:
        add_event(session, incident_id, "alerts_closed", outcome=outcome.value, count=closed)
