"""Use cases of following an incident until it is closed: acknowledge, dispatch, resolve, notes, the
timeline, escalation of unacknowledged incidents, and live-location share links."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from fastapi import FastAPI
from sqlalchemy.orm import Session

from safesphere.alerts import service as alerts_service
from safesphere.alerts.models import AlertStatus
from safesphere.audit import service as audit
from safesphere.core import clock
from safesphere.core.config import Settings
from safesphere.core.db import Database, table
from safesphere.core.errors import Conflict, DomainError, NotFound
from safesphere.devices import service as devices_service
from safesphere.geo import compass_direction, initial_bearing_deg
from safesphere.incidents import deliveries, lifecycle
from safesphere.incidents.lifecycle import Move
from safesphere.incidents.models import Incident, IncidentEvent, ShareLink
from safesphere.notify import outbox
from safesphere.notify.models import Audience, Delivery
from safesphere.notify.routing import Recipient
from safesphere.places import service as places_service
from safesphere.places.models import PlaceKind
from safesphere.places.routing import WALKING_SPEED_MPS
from safesphere.tracking.models import LocationFix
from safesphere.tracking.repository import latest_fix
from safesphere.units import service as units_service

log = logging.getLogger(__name__)

ESCALATING_LEVELS = ("HIGH", "CRITICAL")
SUPERVISOR_FROM_ROUND = 2
"""Round 1 pages the police again; from round 2 on the supervisor is paged too."""
ESCALATION = deliveries.ESCALATION
SHARE_TOKEN_BYTES = 32
"""256 random bits: guessing a live link is hopeless, so the public share route needs no login."""
_INSERT_EVENT = sa.insert(table(IncidentEvent)).returning(table(IncidentEvent).c.id)
_INSERT_SHARE_LINK = sa.insert(table(ShareLink))


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


def escalation_delay_s(settings: Settings, threat_level: str) -> float | None:
    """How long an incident of this level may stay unacknowledged before police are paged again."""
    if settings.escalation_rounds == 0 or threat_level not in ESCALATING_LEVELS:
        return None
    return (
        settings.escalation_after_critical_s
        if threat_level == "CRITICAL"
        else settings.escalation_after_high_s
    )


def share_url(settings: Settings, token: str) -> str:
    return f"{settings.public_url.rstrip('/')}/share/{token}"


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def start_escalation_clock(*, settings: Settings, incident: Incident) -> None:
    """Sets a new incident's escalation deadline by its level, before it is stored."""
    delay = escalation_delay_s(settings, incident.threat_level)
    if delay is not None:
        incident.next_escalation_at = incident.created_at + timedelta(seconds=delay)


def on_reported(*, session: Session, settings: Settings, incident: Incident) -> str | None:
    """A new incident's timeline entry and (HIGH/CRITICAL with an owner) its share link, in the report's
    transaction; returns the share link's URL for the contacts' messages. Its escalation clock was set
    before it was stored (``start_escalation_clock``)."""
    add_event(session, incident.incident_id, "reported", threat_level=incident.threat_level,
              action_taken=incident.action_taken, source_id=incident.source_id)  # fmt: skip
    return _share_link(session=session, settings=settings, incident=incident)


def on_escalated_by_report(
    *,
    session: Session,
    settings: Settings,
    incident: Incident,
    previous_level: str,
    report_id: str,
    new_steps: list[str],
    messages_contacts: bool,
) -> str | None:
    """A repeated report made an open incident worse: its timeline entry; an unacknowledged incident's
    escalation clock runs by the new level (never later than it already would); a share link when the
    new steps message the contacts. Returns the link's URL."""
    add_event(session, incident.incident_id, "escalated_by_report", report_id=report_id,
              from_level=previous_level, threat_level=incident.threat_level, steps=new_steps)  # fmt: skip
    delay = escalation_delay_s(settings, incident.threat_level)
    if delay is not None and incident.status in lifecycle.UNACKNOWLEDGED:
        due = clock.now() + timedelta(seconds=delay)
        current = incident.next_escalation_at
        incident.next_escalation_at = due if current is None else min(current, due)
    if not messages_contacts:
        return None
    return _share_link(session=session, settings=settings, incident=incident)


def _share_link(*, session: Session, settings: Settings, incident: Incident) -> str | None:
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
    session.execute(
        sa.update(ShareLink)
        .where(ShareLink.incident_id == incident_id)
        .values(expires_at=now + timedelta(seconds=settings.share_grace_s))
    )


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


def _escalate_one(session: Session, settings: Settings, incident: Incident, now: datetime) -> bool:
    """Claims one round (a conditional UPDATE, so two processes never page twice) and queues its messages."""
    round_number = incident.escalation_round + 1
    delay = escalation_delay_s(settings, incident.threat_level) or 0.0
    last = round_number >= settings.escalation_rounds
    claimed = session.execute(
        sa.update(Incident)
        .where(
            Incident.id == incident.id,
            Incident.escalation_round == incident.escalation_round,
            Incident.status.in_([s.value for s in lifecycle.UNACKNOWLEDGED]),
        )
        .values(
            escalation_round=round_number,
            next_escalation_at=None if last else now + timedelta(seconds=delay),
        )
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return False
    recipients = [Recipient(Audience.police, "police_dispatch")]
    if round_number >= SUPERVISOR_FROM_ROUND:
        recipients.append(Recipient(Audience.supervisor, "supervisor"))
    waited = round((now - incident.created_at).total_seconds())
    message = (f"ESCALATION round {round_number}: {incident.threat_level} threat {incident.incident_id} "
               f"unacknowledged for {waited} s")  # fmt: skip
    location = (
        {"lat": incident.latitude, "lon": incident.longitude} if incident.latitude is not None else None
    )
    outbox.enqueue_all(
        session=session,
        deliveries=outbox.planned(
            channels=outbox.active_channels(session, settings),
            recipients=recipients,
            subject=f"SafeSphere escalation: {incident.incident_id}",
            payload={
                "event": ESCALATION,
                "incident_id": incident.incident_id,
                "round": round_number,
                "threat_level": incident.threat_level,
                "message": message,
                "location": location,
            },
            key_prefix=f"{ESCALATION}:{incident.incident_id}:{round_number}",
            source_kind=ESCALATION,
            source_id=incident.incident_id,
            incident_id=incident.incident_id,
        ),
    )
    add_event(session, incident.incident_id, "escalated", round=round_number,
              audiences=[r.audience.value for r in recipients])  # fmt: skip
    return True


def escalate_due(*, database: Database, settings: Settings) -> int:
    """One pass: every unacknowledged HIGH/CRITICAL incident past its deadline gets its next round.

    On PostgreSQL the pass locks the incidents it takes and passes over those another instance's pass
    (or a report) holds (``FOR UPDATE SKIP LOCKED``): passes share the overdue incidents instead of
    waiting on each other; a skipped one is taken by the next pass if still due. SQLite ignores the
    clause (its writers take turns on one lock); the conditional UPDATE still pages each round once."""
    now = clock.now()
    done = 0
    with database.session() as session:
        due = list(
            session.scalars(
                sa.select(Incident)
                .where(
                    Incident.next_escalation_at <= now,
                    Incident.status.in_([s.value for s in lifecycle.UNACKNOWLEDGED]),
                )
                .order_by(Incident.next_escalation_at)
                .limit(100)
                .with_for_update(skip_locked=True)
            )
        )
        for incident in due:
            done += _escalate_one(session, settings, incident, now)
        session.commit()
    return done


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


async def escalate_periodically(app: FastAPI) -> None:
    """The server's escalation task: every ``SAFESPHERE_ESCALATION_POLL_INTERVAL_S`` seconds."""
    settings: Settings = app.state.settings
    while True:
        await asyncio.sleep(settings.escalation_poll_interval_s)
        try:
            await asyncio.to_thread(escalate_due, database=app.state.db, settings=settings)
        except Exception:
            log.exception("escalation pass failed; will retry")


def _origin(session: Session, incident: Incident) -> tuple[float, float] | None:
    """Where the protected person is: their latest fix, else where the threat was seen."""
    if incident.owner_id is not None:
        fix = latest_fix(session, tourist_id=incident.owner_id)
        if fix is not None:
            return fix.latitude, fix.longitude
    if incident.latitude is not None and incident.longitude is not None:
        return incident.latitude, incident.longitude
    return None


def incident_safe_route(
    *, session: Session, settings: Settings, incident_id: str
) -> places_service.SafeRoute:
    """The way from the protected person (or the threat's place) to the nearest police station."""
    incident = session.scalar(sa.select(Incident).where(Incident.incident_id == incident_id))
    if incident is None:
        raise NotFound("Incident not found")
    origin = _origin(session, incident)
    if origin is None:
        raise NotFound("The incident has no location and its owner has sent none")
    return places_service.safe_route(session=session, settings=settings, lat=origin[0], lon=origin[1])


NO_ROUTE_ORIGIN = "no location: neither the threat nor its owner has a place to route from"
NO_POLICE_STATION = "no police station registered"


def safe_route_note(*, session: Session, incident: Incident) -> str:
    """What the protocol's ``safe_route`` step records: the nearest police station in a straight line (the
    report must not wait for a routing service; ``GET /incidents/{id}/safe-route`` gives the walking
    route)."""
    origin = _origin(session, incident)
    found = (
        None
        if origin is None
        else places_service.nearest_place(
            session=session, lat=origin[0], lon=origin[1], kind=PlaceKind.police_station
        )
    )
    if origin is None:
        return NO_ROUTE_ORIGIN
    if found is None:
        return NO_POLICE_STATION
    station, distance_km = found
    direction = compass_direction(
        initial_bearing_deg(origin[0], origin[1], station.latitude, station.longitude)
    )
    minutes = distance_km * 1000 / WALKING_SPEED_MPS / 60
    return (f"Nearest police station '{station.name}': {distance_km:.1f} km {direction}, "
            f"about {minutes:.0f} min on foot")  # fmt: skip
