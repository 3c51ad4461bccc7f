"""Use cases of safety alerts: SOS, anomaly and incident-derived alerts, acknowledge and resolve."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from safesphere.alerts import deliveries
from safesphere.alerts.models import Alert, AlertStatus, AlertType, Severity
from safesphere.audit import service as audit
from safesphere.audit.models import AuditAction
from safesphere.core import clock
from safesphere.core.config import Settings
from safesphere.core.db import UTCDateTime, table
from safesphere.core.errors import Conflict, NotFound
from safesphere.geo import BoundingBox, bounding_box, haversine_km
from safesphere.notify.routing import Recipient

THREAT_LEVEL_SEVERITY = {
    "LOW": Severity.low,
    "MEDIUM": Severity.medium,
    "HIGH": Severity.high,
    "CRITICAL": Severity.critical,
}
"""A located threat incident's level as a safety alert's severity."""
_INSERT_ALERTS = sa.insert(table(Alert))
"""A Core insert on the session's connection (the incident path writes these in bulk)."""
RISK_LEVEL_SEVERITY = {
    "low": Severity.low,
    "medium": Severity.medium,
    "high": Severity.high,
    "critical": Severity.critical,
}


def record_incident_alert(
    *,
    session: Session,
    incident_id: str,
    threat_level: str,
    latitude: float,
    longitude: float,
    occurred_at: datetime,
    description: str,
) -> None:
    """A located threat incident as a safety alert, in the caller's transaction (no commit)."""
    session.connection().execute(
        _INSERT_ALERTS,
        [
            {
                "type": AlertType.incident.value,
                "severity": THREAT_LEVEL_SEVERITY[threat_level].value,
                "title": f"Threat incident {threat_level}",
                "description": description or f"{threat_level} threat reported by a detection engine",
                "latitude": latitude,
                "longitude": longitude,
                "occurred_at": occurred_at,
                "incident_id": incident_id,
                "status": AlertStatus.open.value,
            }
        ],
    )


def raise_incident_alert(*, session: Session, incident_id: str, threat_level: str) -> None:
    """A located incident a repeated report made worse: its safety alert takes the new severity, in the
    caller's transaction (no commit)."""
    session.execute(
        sa.update(Alert)
        .where(Alert.incident_id == incident_id, Alert.type == AlertType.incident.value)
        .values(severity=THREAT_LEVEL_SEVERITY[threat_level].value, title=f"Threat incident {threat_level}")
        .execution_options(synchronize_session=False)
    )


def count_incident_report(*, session: Session, incident_id: str) -> None:
    """A report grouped into ``incident_id``: its safety alert counts one more report (caller's
    transaction; nothing when the incident has no alert)."""
    alert = table(Alert).c
    session.connection().execute(
        sa.update(table(Alert))
        .where(alert.incident_id == incident_id, alert.type == AlertType.incident.value)
        .values(report_count=alert.report_count + 1)
    )


WARNING_RADIUS_KM = 1.0
"""Tourists whose latest fix is this close to a located HIGH/CRITICAL threat are warned."""
WARNING_RECENT = timedelta(minutes=30)
"""Only tourists seen this recently: an old position says nothing about where they are now."""
WARNED_LEVELS = ("HIGH", "CRITICAL")


SeenNear = Callable[[Session, BoundingBox, datetime], Iterable[tuple[int, float, float]]]
"""(tourist id, latitude, longitude) of the tourists last seen in a box since a time (``tracking`` knows)."""


def warn_tourists_nearby(
    *,
    session: Session,
    incident_id: str,
    threat_level: str,
    latitude: float,
    longitude: float,
    seen_near: SeenNear,
) -> int:
    """A warning alert to each tourist recently within 1 km of a located HIGH/CRITICAL threat, in the
    caller's transaction (one bulk insert); returns how many. It says what and where, never who else is
    involved."""
    if threat_level not in WARNED_LEVELS:
        return 0
    box = bounding_box(latitude, longitude, WARNING_RADIUS_KM)
    now = clock.now()
    nearby = seen_near(session, box, now - WARNING_RECENT)
    warnings = []
    for tourist_id, lat, lon in nearby:
        distance_km = haversine_km(lat, lon, latitude, longitude)
        if distance_km > WARNING_RADIUS_KM:
            continue
        warnings.append(
            {
                "type": AlertType.warning.value,
                "severity": THREAT_LEVEL_SEVERITY[threat_level].value,
                "title": f"{threat_level.title()} threat reported near you",
                "description": (
                    f"A {threat_level} threat was reported {round(distance_km * 1000, -1):.0f} m from you. "
                    "Move away from the area and towards people; press SOS if you are in danger."
                ),
                "latitude": latitude,
                "longitude": longitude,
                "occurred_at": now,
                "tourist_id": tourist_id,
                "incident_id": incident_id,
                "status": AlertStatus.open.value,
            }
        )
    if warnings:
        session.connection().execute(_INSERT_ALERTS, warnings)
        deliveries.push_warnings(session=session, incident_id=incident_id, warnings=warnings)
    return len(warnings)


def record_anomaly_alert(
    *,
    session: Session,
    settings: Settings,
    tourist_id: int,
    score: float,
    risk_level: str,
    latitude: float,
    longitude: float,
    occurred_at: datetime,
) -> Alert:
    """A tourist's low safety score as an alert for the police, in the caller's transaction (no commit)."""
    alert = Alert(
        type=AlertType.anomaly.value,
        severity=RISK_LEVEL_SEVERITY[risk_level].value,
        title=f"Safety Alert - Score: {score:.0f}",
        description=f"Safety score dropped to {score:.0f}. Risk level: {risk_level}",
        latitude=latitude,
        longitude=longitude,
        occurred_at=occurred_at,
        tourist_id=tourist_id,
    )
    session.add(alert)
    deliveries.deliver_safety_alert(session=session, settings=settings, alert=alert)
    return alert


_A = table(Alert).c
_LAST_ANOMALY_SEVERITY = (
    sa.select(_A.severity)
    .where(
        _A.tourist_id == sa.bindparam("tourist_id"),
        _A.type == AlertType.anomaly.value,
        _A.occurred_at >= sa.bindparam("since", type_=UTCDateTime),
    )
    .order_by(_A.occurred_at.desc(), _A.id.desc())
    .limit(1)
)
"""Every low-scored location update asks this (a Core statement built once)."""


def last_anomaly_severity(*, session: Session, tourist_id: int, since: datetime) -> str | None:
    """The severity of the tourist's latest anomaly alert since ``since``, if any."""
    severity: str | None = session.connection().scalar(
        _LAST_ANOMALY_SEVERITY, {"tourist_id": tourist_id, "since": since}
    )
    return severity


def create_sos(
    *,
    session: Session,
    settings: Settings,
    tourist_id: int,
    latitude: float,
    longitude: float,
    message: str | None,
    contacts: Sequence[Recipient],
) -> Alert:
    """A critical SOS alert, sent to the police and the tourist's emergency ``contacts`` in its
    transaction."""
    alert = Alert(
        type=AlertType.sos.value,
        severity=Severity.critical.value,
        title="Emergency SOS Alert",
        description=message or "Tourist in distress",
        latitude=latitude,
        longitude=longitude,
        occurred_at=clock.now(),
        tourist_id=tourist_id,
    )
    session.add(alert)
    deliveries.deliver_safety_alert(session=session, settings=settings, alert=alert, contacts=contacts)
    session.commit()
    return alert


def list_alerts(
    *,
    session: Session,
    status: AlertStatus | None = None,
    alert_type: AlertType | None = None,
    severity: Severity | None = None,
    since: datetime | None = None,
    bbox: BoundingBox | None = None,
    tourist_id: int | None = None,
    limit: int = 100,
) -> list[Alert]:
    query = sa.select(Alert).order_by(Alert.occurred_at.desc(), Alert.id.desc()).limit(limit)
    if status is not None:
        query = query.where(Alert.status == status.value)
    if alert_type is not None:
        query = query.where(Alert.type == alert_type.value)
    if severity is not None:
        query = query.where(Alert.severity == severity.value)
    if since is not None:
        query = query.where(Alert.occurred_at >= since)
    if tourist_id is not None:
        query = query.where(Alert.tourist_id == tourist_id)
    if bbox is not None:
        query = query.where(
            Alert.latitude.between(bbox.min_lat, bbox.max_lat),
            Alert.longitude.between(bbox.min_lon, bbox.max_lon),
        )
    return list(session.scalars(query))


def _get(session: Session, alert_id: int) -> Alert:
    alert = session.get(Alert, alert_id)
    if alert is None:
        raise NotFound("Alert not found")
    return alert


def acknowledge(*, session: Session, alert_id: int, user_id: int) -> Alert:
    alert = _get(session, alert_id)
    if alert.status != AlertStatus.open.value:
        raise Conflict(f"Alert is {alert.status}; only an open alert can be acknowledged")
    alert.status, alert.acknowledged_by, alert.acknowledged_at = (
        AlertStatus.acknowledged.value,
        user_id,
        clock.now(),
    )
    audit.record(session, AuditAction.alert_acknowledged, actor_id=user_id, target=("alert", alert_id))
    session.commit()
    return alert


OPEN_STATUSES = (AlertStatus.open.value, AlertStatus.acknowledged.value)
"""An alert still being handled; resolved and false alarms are closed."""
CLOSING = frozenset({AlertStatus.resolved, AlertStatus.false_alarm})


def resolve(
    *,
    session: Session,
    alert_id: int,
    user_id: int,
    notes: str | None,
    outcome: AlertStatus = AlertStatus.resolved,
) -> Alert:
    """Close an open alert as resolved or a false alarm (``outcome``); a closed one is a 409."""
    if outcome not in CLOSING:
        raise Conflict(f"An alert cannot be closed as {outcome.value}")
    alert = _get(session, alert_id)
    if alert.status not in OPEN_STATUSES:
        raise Conflict(f"Alert is already {alert.status.replace('_', ' ')}")
    now = clock.now()
    if alert.acknowledged_at is None:
        alert.acknowledged_by, alert.acknowledged_at = user_id, now
    alert.status, alert.resolved_by, alert.resolved_at = outcome.value, user_id, now
    alert.resolution_notes = notes
    audit.record(session, AuditAction.alert_resolved, actor_id=user_id, target=("alert", alert_id))
    session.commit()
    return alert


ANONYMISED = "Removed at the tourist's request (account deleted)"


def anonymise_tourist(*, session: Session, tourist_id: int) -> int:
    """Before a tourist's account is deleted, in its transaction (no commit): the SOS and anomaly alerts
    they raised stay for the police without who raised them or their message; the warnings addressed to
    them go. Returns how many alerts were kept."""
    session.execute(
        sa.delete(Alert).where(Alert.tourist_id == tourist_id, Alert.type == AlertType.warning.value)
    )
    kept = session.execute(
        sa.update(Alert)
        .where(Alert.tourist_id == tourist_id)
        .values(tourist_id=None, description=ANONYMISED, updated_at=clock.now())
        .execution_options(synchronize_session=False)
    )
    return int(kept.rowcount)  # type: ignore[attr-defined]


def close_incident_alerts(
    *, session: Session, incident_id: str, outcome: AlertStatus, user_id: int, at: datetime
) -> int:
    """An incident closed as resolved or a false alarm closes what it caused: its safety alert and the
    warnings it sent nearby tourists take the same outcome, in the caller's transaction (no commit);
    returns how many."""
    result = session.execute(
        sa.update(Alert)
        .where(
            Alert.incident_id == incident_id,
            Alert.type.in_([AlertType.incident.value, AlertType.warning.value]),
            Alert.status.in_(OPEN_STATUSES),
        )
        .values(
            status=outcome.value,
            resolved_by=user_id,
            resolved_at=at,
            acknowledged_at=sa.func.coalesce(Alert.acknowledged_at, at),
            updated_at=at,
        )
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
