"""What makes deliveries (the incident protocol's alerts, SOS, anomaly alerts) and what their outcome
changes (the incident alert's status, the incident's time-to-notify). Runs in the caller's transaction."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from safesphere.alerts.models import Alert
from safesphere.auth.models import User
from safesphere.core.config import Settings
from safesphere.core.db import UTCDateTime, table
from safesphere.incidents.lifecycle import UNACKNOWLEDGED
from safesphere.incidents.models import Incident, IncidentAlert
from safesphere.notify import outbox, push
from safesphere.notify.models import Audience, Delivery, DeliveryStatus
from safesphere.notify.routing import Recipient, routes
from safesphere.tracking.models import EmergencyContact

INCIDENT_ALERT = "incident_alert"
SAFETY_ALERT = "safety_alert"
NO_RECIPIENTS = "no_recipients"
"""An incident alert's status when nobody can receive it (e.g. contacts of an incident without an owner)."""
POLICE = Recipient(Audience.police, "police_dispatch")


@dataclass(frozen=True)
class People:
    """Who an incident's messages can reach besides the police: its protected person and their contacts."""

    owner: User | None = None
    contacts: tuple[EmergencyContact, ...] = ()

    def recipients(self, kind: str) -> list[Recipient]:
        """The recipients of a protocol message addressed to ``kind`` (police, contacts or the user)."""
        if kind == "police_dispatch":
            return [POLICE]
        if kind == "emergency_contacts":
            return _contacts(self.contacts)
        if self.owner is None:
            return []
        owner = self.owner
        return [Recipient(Audience.user, owner.name or owner.email, owner.email, owner.phone)]


def people(*, session: Session, user_id: int | None) -> People:
    """The person ``user_id`` and their emergency contacts (no query without a person)."""
    if user_id is None:
        return People()
    contacts = session.scalars(
        sa.select(EmergencyContact).where(EmergencyContact.user_id == user_id).order_by(EmergencyContact.id)
    )
    return People(session.get(User, user_id), tuple(contacts))


def _contacts(contacts: Iterable[EmergencyContact]) -> list[Recipient]:
    return [Recipient(Audience.contact, c.name, c.email, c.phone) for c in contacts]


def _location(lat: float | None, lon: float | None) -> dict[str, float] | None:
    return {"lat": lat, "lon": lon} if lat is not None and lon is not None else None


def deliver_incident_alerts(
    *,
    session: Session,
    settings: Settings,
    incident: Incident,
    alerts: list[IncidentAlert],
    people: People,
    share_url: str | None = None,
) -> dict[int, tuple[tuple[str, ...], ...]]:
    """A delivery for each recipient of each of the protocol's stored messages (``people`` as returned by
    ``people()``), in the report's transaction, in one bulk insert; the emergency contacts' messages carry
    the live-location link. Messages nobody can receive were stored as ``no_recipients`` and are skipped.
    Returns, per alert id, each recipient's channel names (``("log",)``: no channel serves them)."""
    reached: dict[int, tuple[tuple[str, ...], ...]] = {}
    if not alerts:
        return reached
    channels = outbox.active_channels(session, settings)
    rows: list[dict[str, Any]] = []
    for alert in alerts:
        recipients = people.recipients(alert.recipient)
        if not recipients:
            continue
        reached[alert.id] = tuple(
            tuple(route.channel.name for route in routes(recipient, channels)) for recipient in recipients
        )
        payload: dict[str, Any] = {
            "event": INCIDENT_ALERT,
            "incident_id": incident.incident_id,
            "alert_type": alert.alert_type,
            "threat_level": incident.threat_level,
            "message": alert.message,
            "location": _location(incident.latitude, incident.longitude),
            "timestamp": incident.timestamp.isoformat(),
            "people_count": incident.people_count,
            "weapon_detected": incident.weapon_detected,
            "weapon_types": list(incident.weapon_types),
        }
        if share_url is not None and alert.recipient == "emergency_contacts":
            payload["share_url"] = share_url
        rows += outbox.planned(
            channels=channels,
            recipients=recipients,
            subject=f"SafeSphere {incident.threat_level} threat {incident.incident_id}: {alert.alert_type}",
            payload=payload,
            key_prefix=f"{INCIDENT_ALERT}:{alert.id}",
            source_kind=INCIDENT_ALERT,
            source_id=alert.id,
            incident_id=incident.incident_id,
        )
    outbox.enqueue_all(session=session, deliveries=rows)
    return reached


def deliver_safety_alert(*, session: Session, settings: Settings, alert: Alert, to_contacts: bool) -> None:
    """A tourist's SOS (police and their contacts) or anomaly alert (police), in the alert's transaction."""
    session.flush()
    tourist = people(session=session, user_id=alert.tourist_id)
    recipients = [POLICE, *(_contacts(tourist.contacts) if to_contacts else [])]
    outbox.enqueue_all(
        session=session,
        deliveries=outbox.planned(
            channels=outbox.active_channels(session, settings),
            recipients=recipients,
            subject=f"SafeSphere {alert.type.upper()}: {alert.title}",
            payload={
                "event": alert.type,
                "alert_id": alert.id,
                "severity": alert.severity,
                "title": alert.title,
                "message": f"{alert.title}: {alert.description}",
                "tourist_id": alert.tourist_id,
                "location": _location(alert.latitude, alert.longitude),
                "timestamp": alert.occurred_at.isoformat(),
            },
            key_prefix=f"{SAFETY_ALERT}:{alert.id}",
            source_kind=SAFETY_ALERT,
            source_id=alert.id,
        ),
    )
    if alert.tourist_id is not None:
        push.enqueue(session=session, notes=[_note_to_tourist(alert)])


def _note_to_tourist(alert: Alert) -> push.Note:
    """What the tourist's own devices are told: their SOS went out, or their score fell."""
    if alert.type == "sos":
        title, body = "SOS sent", "Police and your emergency contacts are being told where you are."
    else:
        title, body = alert.title, alert.description
    return push.Note(
        user_id=int(alert.tourist_id or 0), title=title, body=body, event=alert.type,
        key_prefix=f"{SAFETY_ALERT}:{alert.id}:tourist", source_kind=SAFETY_ALERT, source_id=alert.id,
        urgency="high" if alert.type == "sos" else "normal",
    )  # fmt: skip


def push_warnings(*, session: Session, incident_id: str, warnings: list[dict[str, Any]]) -> None:
    """Nearby warnings (rows as inserted: tourist, title, description) to the warned tourists' devices."""
    notes = [
        push.Note(
            user_id=int(w["tourist_id"]), title=str(w["title"]), body=str(w["description"]), event="warning",
            key_prefix=f"warning:{incident_id}:{w['tourist_id']}", source_kind="warning",
            source_id=incident_id, urgency="high", incident_id=incident_id,
        )
        for w in warnings
    ]  # fmt: skip
    push.enqueue(session=session, notes=notes)


ESCALATION = "escalation"
"""The source kind of escalation pages (``incidents.response`` queues them)."""
_STILL_UNACKNOWLEDGED = sa.select(table(Incident).c.incident_id).where(
    table(Incident).c.incident_id.in_(sa.bindparam("ids", expanding=True)),
    table(Incident).c.status.in_([s.value for s in UNACKNOWLEDGED]),
)


def unwanted_escalations(
    *, connection: sa.Connection, claimed: list[tuple[int, str, str | None]]
) -> list[int]:
    """Of claimed ``(delivery id, source kind, incident id)``, the escalation pages whose incident was
    acknowledged (or closed) after the page was queued: they are cancelled, not sent (one query)."""
    pages = [(delivery_id, incident_id) for delivery_id, kind, incident_id in claimed
             if kind == ESCALATION and incident_id is not None]  # fmt: skip
    if not pages:
        return []
    waiting = set(connection.scalars(_STILL_UNACKNOWLEDGED, {"ids": list({i for _, i in pages})}))
    return [delivery_id for delivery_id, incident_id in pages if incident_id not in waiting]


@dataclass(frozen=True)
class Finished:
    """A delivery whose attempt was just recorded, with its new status and when the attempt ended."""

    incident_id: str | None
    audience: str
    source_kind: str
    source_id: str
    status: str
    at: datetime


_I = table(Incident).c
_A = table(IncidentAlert).c
_D = table(Delivery).c
_IDS: sa.BindParameter[list[str]] = sa.bindparam("ids", expanding=True)
_UNTIMED = sa.select(_I.incident_id, _I.created_at).where(
    _I.incident_id.in_(_IDS), _I.response_time_ms.is_(None)
)
_SET_TIME_TO_NOTIFY = (
    sa.update(table(Incident))
    .where(_I.incident_id == sa.bindparam("b_incident_id"), _I.response_time_ms.is_(None))
    .values(response_time_ms=sa.bindparam("b_ms"))
)
_ALERT_DELIVERY_STATUSES = sa.select(_D.source_id, _D.status).where(
    _D.source_kind == INCIDENT_ALERT, _D.source_id.in_(_IDS)
)
_SET_ALERT_STATUS = (
    sa.update(table(IncidentAlert))
    .where(_A.id == sa.bindparam("b_id"))
    .values(
        status=sa.bindparam("b_status"),
        sent_at=sa.func.coalesce(_A.sent_at, sa.bindparam("b_sent_at", type_=UTCDateTime)),
    )
)


def after_attempts(*, session: Session, finished: list[Finished]) -> None:
    """What a round of attempts changes at their sources, in a few set-based statements: the first attempt
    to police sets its incident's time-to-notify; an incident alert takes the state of its deliveries
    (``failed`` when one failed for good, ``sent`` when all were sent, else it stays as it is)."""
    connection = session.connection()
    _set_time_to_notify(connection, finished)
    ended = {int(f.source_id): f.at for f in finished if f.source_kind == INCIDENT_ALERT}
    if not ended:
        return
    statuses: dict[str, set[str]] = {}
    for source_id, status in connection.execute(_ALERT_DELIVERY_STATUSES, {"ids": [str(i) for i in ended]}):
        statuses.setdefault(source_id, set()).add(status)
    changes = []
    for alert_id, at in ended.items():
        found = statuses.get(str(alert_id), set())
        if DeliveryStatus.failed.value in found:
            changes.append({"b_id": alert_id, "b_status": DeliveryStatus.failed.value, "b_sent_at": None})
        elif found == {DeliveryStatus.sent.value}:
            changes.append({"b_id": alert_id, "b_status": DeliveryStatus.sent.value, "b_sent_at": at})
    if changes:
        connection.execute(_SET_ALERT_STATUS, changes)


def _set_time_to_notify(connection: sa.Connection, finished: list[Finished]) -> None:
    """An incident's time-to-notify is its first attempt to police, from receipt to that attempt's end."""
    first: dict[str, datetime] = {}
    for f in finished:
        if f.incident_id is not None and f.audience == Audience.police.value:
            first[f.incident_id] = min(f.at, first.get(f.incident_id, f.at))
    if not first:
        return
    changes = [
        {
            "b_incident_id": incident_id,
            "b_ms": max(0, round((first[incident_id] - created).total_seconds() * 1000)),
        }
        for incident_id, created in connection.execute(_UNTIMED, {"ids": list(first)})
    ]
    if changes:
        connection.execute(_SET_TIME_TO_NOTIFY, changes)


def _ms_between(start: datetime, end: datetime) -> int:
    return max(0, round((end - start).total_seconds() * 1000))
