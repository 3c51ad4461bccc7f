"""What a safety alert sends: an SOS to the police and the tourist's emergency contacts, an anomaly to the
police, a warning to the warned tourist's devices; each in the alert's transaction, through notify."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from safesphere.alerts.models import Alert
from safesphere.core.config import Settings
from safesphere.notify import outbox, push
from safesphere.notify.models import Audience
from safesphere.notify.routing import Recipient

SAFETY_ALERT = "safety_alert"
POLICE = Recipient(Audience.police, "police_dispatch")


def location_payload(lat: float | None, lon: float | None) -> dict[str, float] | None:
    return {"lat": lat, "lon": lon} if lat is not None and lon is not None else None


def deliver_safety_alert(
    *, session: Session, settings: Settings, alert: Alert, contacts: Sequence[Recipient] = ()
) -> None:
    """A tourist's SOS (police and ``contacts``, the tourist's emergency contacts) or anomaly alert
    (police), in the alert's transaction."""
    session.flush()
    outbox.enqueue_all(
        session=session,
        deliveries=outbox.planned(
            channels=outbox.active_channels(session, settings),
            recipients=[POLICE, *contacts],
            subject=f"SafeSphere {alert.type.upper()}: {alert.title}",
            payload={
                "event": alert.type,
                "alert_id": alert.id,
                "severity": alert.severity,
                "title": alert.title,
                "message": f"{alert.title}: {alert.description}",
                "tourist_id": alert.tourist_id,
                "location": location_payload(alert.latitude, alert.longitude),
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
