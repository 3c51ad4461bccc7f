"""What an incident's messages owe whom, and what their deliveries' outcomes change on the incident's
rows: the protocol's messages become deliveries (notify's outbox) in the report's transaction; a finished
attempt updates the incident alert's status and the incident's time-to-notify, and an escalation page of
an incident acknowledged meanwhile is cancelled (hooks registered with ``notify.hooks``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from safesphere.alerts.deliveries import POLICE, location_payload
from safesphere.auth.models import User
from safesphere.core.config import Settings
from safesphere.core.db import UTCDateTime, table
from safesphere.incidents.lifecycle import UNACKNOWLEDGED
from safesphere.incidents.models import Incident, IncidentAlert
from safesphere.notify import hooks, outbox
from safesphere.notify.models import Audience, Delivery, DeliveryStatus
from safesphere.notify.routing import Recipient, routes
from safesphere.tracking import contacts as tracking_contacts
from safesphere.tracking.models import EmergencyContact

INCIDENT_ALERT = "incident_alert"
NO_RECIPIENTS = "no_recipients"
"""An incident alert's status when nobody can receive it (e.g. contacts of an incident without an owner)."""


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
            return tracking_contacts.recipients(self.contacts)
        if self.owner is None:
            return []
        owner = self.owner
        return [Recipient(Audience.user, owner.name or owner.email, owner.email, owner.phone)]


def people(*, session: Session, user_id: int | None) -> People:
    """The person ``user_id`` and their emergency contacts (no query without a person)."""
    if user_id is None:
        return People()
    contacts = tracking_contacts.list_contacts(session=session, user_id=user_id)
    return People(session.get(User, user_id), tuple(contacts))


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
            "location": location_payload(incident.latitude, incident.longitude),
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


ESCALATION = "escalation"
"""The source kind of escalation pages (``incidents.escalation`` queues them)."""
_STILL_UNACKNOWLEDGED = sa.select(table(Incident).c.incident_id).where(
    table(Incident).c.incident_id.in_(sa.bindparam("ids", expanding=True)),
    table(Incident).c.status.in_([s.value for s in UNACKNOWLEDGED]),
)


def unwanted_escalations(connection: sa.Connection, claimed: list[hooks.Claim]) -> list[int]:
    """Of claimed deliveries, the escalation pages whose incident was
    acknowledged (or closed) after the page was queued: they are cancelled, not sent (one query)."""
    pages = [(c.delivery_id, c.incident_id) for c in claimed
             if c.source_kind == ESCALATION and c.incident_id is not None]  # fmt: skip
    if not pages:
        return []
    waiting = set(connection.scalars(_STILL_UNACKNOWLEDGED, {"ids": list({i for _, i in pages})}))
    return [delivery_id for delivery_id, incident_id in pages if incident_id not in waiting]


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


def after_attempts(session: Session, finished: list[hooks.Finished]) -> None:
    """What a round of attempts changes at the incidents, in a few set-based statements: the first attempt
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


def _set_time_to_notify(connection: sa.Connection, finished: list[hooks.Finished]) -> None:
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


hooks.on_finished((INCIDENT_ALERT, ESCALATION), after_attempts)
hooks.on_claimed((ESCALATION,), unwanted_escalations)
