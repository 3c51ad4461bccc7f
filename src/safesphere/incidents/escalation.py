"""Escalation of unacknowledged incidents: a HIGH or CRITICAL incident nobody acknowledged within its
level's delay pages the police again (and, from round 2, the supervisor), round after round, until an
authority acknowledges it or the rounds run out. Its pages are deliveries like the protocol's
(``incidents.deliveries`` is the completion hook that cancels one whose incident was acknowledged)."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

import sqlalchemy as sa
from fastapi import FastAPI
from sqlalchemy.orm import Session

from safesphere.core import clock
from safesphere.core.config import Settings
from safesphere.core.db import Database
from safesphere.incidents import deliveries, lifecycle
from safesphere.incidents.models import Incident
from safesphere.incidents.timeline import add_event
from safesphere.notify import outbox
from safesphere.notify.models import Audience
from safesphere.notify.routing import Recipient

log = logging.getLogger(__name__)

ESCALATING_LEVELS = ("HIGH", "CRITICAL")
SUPERVISOR_FROM_ROUND = 2
"""Round 1 pages the police again; from round 2 on the supervisor is paged too."""
ESCALATION = deliveries.ESCALATION


def escalation_delay_s(settings: Settings, threat_level: str) -> float | None:
    """How long an incident of this level may stay unacknowledged before police are paged again."""
    if settings.escalation_rounds == 0 or threat_level not in ESCALATING_LEVELS:
        return None
    return (
        settings.escalation_after_critical_s
        if threat_level == "CRITICAL"
        else settings.escalation_after_high_s
    )


def start_escalation_clock(*, settings: Settings, incident: Incident) -> None:
    """Sets a new incident's escalation deadline by its level, before it is stored."""
    delay = escalation_delay_s(settings, incident.threat_level)
    if delay is not None:
        incident.next_escalation_at = incident.created_at + timedelta(seconds=delay)


def run_by_new_level(*, settings: Settings, incident: Incident) -> None:
    """A repeated report made an open incident worse: an unacknowledged incident's escalation clock runs
    by the new level (never later than it already would)."""
    delay = escalation_delay_s(settings, incident.threat_level)
    if delay is not None and incident.status in lifecycle.UNACKNOWLEDGED:
        due = clock.now() + timedelta(seconds=delay)
        current = incident.next_escalation_at
        incident.next_escalation_at = due if current is None else min(current, due)


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


async def escalate_periodically(app: FastAPI) -> None:
    """The server's escalation task: every ``SAFESPHERE_ESCALATION_POLL_INTERVAL_S`` seconds."""
    settings: Settings = app.state.settings
    while True:
        await asyncio.sleep(settings.escalation_poll_interval_s)
        try:
            await asyncio.to_thread(escalate_due, database=app.state.db, settings=settings)
        except Exception:
            log.exception("escalation pass failed; will retry")
