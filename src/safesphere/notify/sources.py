"""What makes deliveries (the incident protocol's alerts, SOS, anomaly alerts) and what their outcome
changes (the incident alert's status, the incident's time-to-notify). Runs in the caller's transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from safesphere.alerts.models import Alert
from safesphere.auth.models import User
from safesphere.core.config import Settings
from safesphere.incidents.lifecycle import UNACKNOWLEDGED
from safesphere.incidents.models import Incident, IncidentAlert
from safesphere.notify import outbox
from safesphere.notify.models import Audience, Delivery, DeliveryStatus
from safesphere.notify.routing import Recipient
from safesphere.tracking.models import EmergencyContact

INCIDENT_ALERT = "incident_alert"
SAFETY_ALERT = "safety_alert"
NO_RECIPIENTS = "no_recipients"
"""An incident alert's status when nobody can receive it (e.g. contacts of an incident without an owner)."""
POLICE = Recipient(Audience.police, "police_dispatch")


def _people(session: Session, user_id: int | None) -> tuple[User | None, list[EmergencyContact]]:
    if user_id is None:
        return None, []
    contacts = session.scalars(
        sa.select(EmergencyContact).where(EmergencyContact.user_id == user_id).order_by(EmergencyContact.id)
    )
    return session.get(User, user_id), list(contacts)


def _contacts(contacts: list[EmergencyContact]) -> list[Recipient]:
    return [Recipient(Audience.contact, c.name, c.email, c.phone) for c in contacts]


def _incident_recipients(kind: str, owner: User | None, contacts: list[EmergencyContact]) -> list[Recipient]:
    if kind == "police_dispatch":
        return [POLICE]
    if kind == "emergency_contacts":
        return _contacts(contacts)
    if owner is None:
        return []
    return [Recipient(Audience.user, owner.name or owner.email, owner.email, owner.phone)]


def _location(lat: float | None, lon: float | None) -> dict[str, float] | None:
    return {"lat": lat, "lon": lon} if lat is not None and lon is not None else None


def deliver_incident_alerts(
    *,
    session: Session,
    settings: Settings,
    incident: Incident,
    alerts: list[IncidentAlert],
    share_url: str | None = None,
) -> None:
    """A delivery for each recipient of each of the protocol's messages, in the report's transaction;
    the emergency contacts' messages carry the live-location link."""
    if not alerts:
        return
    session.flush()  # the alerts' ids make the deliveries' idempotency keys
    channels = outbox.active_channels(session, settings)
    owner, contacts = _people(session, incident.owner_id)
    for alert in alerts:
        recipients = _incident_recipients(alert.recipient, owner, contacts)
        if not recipients:
            alert.status = NO_RECIPIENTS
            continue
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
        outbox.notify(
            session=session,
            channels=channels,
            recipients=recipients,
            subject=f"SafeSphere {incident.threat_level} threat {incident.incident_id}: {alert.alert_type}",
            payload=payload,
            key_prefix=f"{INCIDENT_ALERT}:{alert.id}",
            source_kind=INCIDENT_ALERT,
            source_id=alert.id,
            incident_id=incident.incident_id,
        )


def deliver_safety_alert(*, session: Session, settings: Settings, alert: Alert, to_contacts: bool) -> None:
    """A tourist's SOS (police and their contacts) or anomaly alert (police), in the alert's transaction."""
    session.flush()
    _, contacts = _people(session, alert.tourist_id)
    recipients = [POLICE, *(_contacts(contacts) if to_contacts else [])]
    outbox.notify(
        session=session,
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
    )


def still_wanted(*, session: Session, delivery: Delivery) -> bool:
    """An escalation page is dropped if the incident was acknowledged (or closed) before it could leave."""
    if delivery.source_kind != "escalation" or delivery.incident_id is None:
        return True
    status = session.scalar(sa.select(Incident.status).where(Incident.incident_id == delivery.incident_id))
    return status in {s.value for s in UNACKNOWLEDGED}


def after_attempt(*, session: Session, delivery: Delivery, finished_at: datetime) -> None:
    """The first attempt to police sets the incident's time-to-notify; an incident alert takes the state
    of its deliveries: ``failed`` when one failed for good, ``sent`` when all were sent, else ``pending``."""
    if delivery.incident_id is not None and delivery.audience == Audience.police.value:
        incident = session.scalar(sa.select(Incident).where(Incident.incident_id == delivery.incident_id))
        if incident is not None and incident.response_time_ms is None:
            incident.response_time_ms = max(
                0, round((finished_at - incident.created_at).total_seconds() * 1000)
            )
    if delivery.source_kind != INCIDENT_ALERT:
        return
    alert = session.get(IncidentAlert, int(delivery.source_id))
    if alert is None:
        return
    statuses = set(
        session.scalars(
            sa.select(Delivery.status).where(
                Delivery.source_kind == INCIDENT_ALERT, Delivery.source_id == delivery.source_id
            )
        )
    )
    if DeliveryStatus.failed.value in statuses:
        alert.status = DeliveryStatus.failed.value
    elif statuses == {DeliveryStatus.sent.value}:
        alert.status = DeliveryStatus.sent.value
        alert.sent_at = alert.sent_at or finished_at
