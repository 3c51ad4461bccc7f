"""Safety alerts over HTTP: authorities list, acknowledge and resolve them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from safesphere.alerts import service
from safesphere.alerts.models import AlertStatus, AlertType, Severity
from safesphere.alerts.schemas import AlertOut, ResolveIn
from safesphere.auth.access import AuthorityUser
from safesphere.core import clock
from safesphere.core.dependencies import DbSession, ReadSession
from safesphere.core.errors import responses
from safesphere.core.params import Instant, PathId, parse_bbox

router = APIRouter(prefix="/alerts", tags=["alerts"], responses=responses(401, 403))
NOT_FOUND = responses(409, n404="Alert not found")


@router.get("", response_model=list[AlertOut])
def list_alerts(
    session: ReadSession,
    _: AuthorityUser,
    status: AlertStatus | None = None,
    type: AlertType | None = None,
    severity: Severity | None = None,
    since: Instant | None = None,
    bbox: Annotated[str | None, Query(description="min_lon,min_lat,max_lon,max_lat")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[AlertOut]:
    """Safety alerts, newest first, filtered by status, type, severity, time and area."""
    alerts = service.list_alerts(
        session=session,
        status=status,
        alert_type=type,
        severity=severity,
        since=clock.ensure_utc(since) if since else None,
        bbox=parse_bbox(bbox),
        limit=limit,
    )
    return [AlertOut.from_alert(a) for a in alerts]


@router.post("/{alert_id}/acknowledge", response_model=AlertOut, responses=NOT_FOUND)
def acknowledge(alert_id: PathId, session: DbSession, user: AuthorityUser) -> AlertOut:
    """Mark an open alert as seen by this officer."""
    return AlertOut.from_alert(service.acknowledge(session=session, alert_id=alert_id, user_id=user.id))


@router.post("/{alert_id}/resolve", response_model=AlertOut, responses=NOT_FOUND)
def resolve(
    alert_id: PathId, session: DbSession, user: AuthorityUser, body: ResolveIn | None = None
) -> AlertOut:
    """Close an alert with notes, as resolved or (``outcome: false_alarm``) a false alarm; who and when
    are recorded. 409 if it is already closed."""
    body = body or ResolveIn()
    closed = service.resolve(
        session=session,
        alert_id=alert_id,
        user_id=user.id,
        notes=body.notes,
        outcome=AlertStatus(body.outcome),
    )
    return AlertOut.from_alert(closed)
