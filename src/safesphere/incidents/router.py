"""Threat reports from engines, and the incident views for police and security (SafeSphere Backend API)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request

from safesphere.auth.access import AuthorityUser, EngineKeyAuth
from safesphere.core import clock
from safesphere.core.dependencies import DbSession, ReadSession, SettingsDep
from safesphere.core.errors import responses
from safesphere.incidents import service
from safesphere.incidents.protocol import Protocol, ThreatLevel
from safesphere.incidents.schemas import (
    ActionOut,
    IncidentId,
    IncidentListOut,
    IncidentOut,
    IncidentStatistics,
    IncidentSummary,
    StatisticsOut,
    ThreatLevelListOut,
    ThreatReportIn,
    ThreatReportOut,
)

MAX_PAGE = 1000
"""The largest page a list returns; beyond it, page with ``offset``."""
MAX_OFFSET = 1_000_000_000
"""Far past any real table, and small enough for every database's integer type."""
STATUS_PATTERN = r"^[a-z_]{1,32}$"

router = APIRouter(tags=["incidents"])

IncidentIdPath = Annotated[IncidentId, Path(max_length=64, description="The incident's id.")]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description="At most this many incidents (1-1000).")]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Skip this many incidents.")]


def get_protocol(request: Request) -> Protocol:
    """The response protocol loaded (and validated) when the app was created."""
    protocol: Protocol = request.app.state.protocol
    return protocol


ProtocolDep = Annotated[Protocol, Depends(get_protocol)]


@router.post(
    "/threats/report",
    response_model=ThreatReportOut,
    responses=responses(401, 403, n409="The incident id was already reported with a different body"),
)
def report_threat(
    body: ThreatReportIn,
    session: DbSession,
    settings: SettingsDep,
    protocol: ProtocolDep,
    engine: EngineKeyAuth,
) -> ThreatReportOut:
    """Store a threat incident from a detection engine and run the response protocol for its level.

    Idempotent by ``incident_id``: a retry with the same body returns the original result.
    """
    outcome = service.report_threat(
        session=session, settings=settings, protocol=protocol, engine=engine, report=body
    )
    return ThreatReportOut(
        incident_id=outcome.incident.incident_id,
        message=outcome.message,
        action_taken=outcome.incident.action_taken or "",
        actions=[ActionOut.model_validate(action) for action in outcome.actions],
    )


@router.get(
    "/incidents/threat_level/{level}",
    response_model=ThreatLevelListOut,
    responses=responses(401, 403),
)
def incidents_by_threat_level(
    level: ThreatLevel, session: ReadSession, settings: SettingsDep, _: AuthorityUser, limit: Limit = 100
) -> ThreatLevelListOut:
    """Incidents of one threat level (LOW, MEDIUM, HIGH, CRITICAL), newest first."""
    page = service.list_incidents(session=session, settings=settings, threat_level=level, limit=limit)
    incidents = [IncidentSummary.model_validate(incident) for incident in page.incidents]
    return ThreatLevelListOut(threat_level=level, count=len(incidents), incidents=incidents)


@router.get(
    "/incidents/{incident_id}",
    response_model=IncidentOut,
    responses=responses(401, 403, n404="Incident not found"),
)
def get_incident(incident_id: IncidentIdPath, session: ReadSession, _: AuthorityUser) -> IncidentOut:
    """One incident with its actions, alerts, evidence, location and full telemetry."""
    detail = service.get_incident_detail(session=session, incident_id=incident_id)
    return IncidentOut.build(
        incident=detail.incident, actions=detail.actions, alerts=detail.alerts, evidence=detail.evidence
    )


@router.get("/incidents", response_model=IncidentListOut, responses=responses(401, 403))
def list_incidents(
    session: ReadSession,
    settings: SettingsDep,
    _: AuthorityUser,
    threat_level: ThreatLevel | None = None,
    status: Annotated[str | None, Query(pattern=STATUS_PATTERN)] = None,
    since: Annotated[datetime | None, Query(description="Seen at or after (naive: default zone).")] = None,
    until: Annotated[datetime | None, Query(description="Seen before (naive: default zone).")] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> IncidentListOut:
    """Incidents, newest first, filtered by level, status and the time the threat was seen."""
    page = service.list_incidents(
        session=session,
        settings=settings,
        threat_level=threat_level,
        status=status,
        since=since,
        until=until,
        limit=limit,
        offset=offset,
    )
    incidents = [IncidentSummary.model_validate(incident) for incident in page.incidents]
    return IncidentListOut(
        count=len(incidents), total=page.total, limit=limit, offset=offset, incidents=incidents
    )


@router.get("/statistics", response_model=StatisticsOut, responses=responses(401, 403))
def statistics(session: ReadSession, _: AuthorityUser) -> StatisticsOut:
    """Threat statistics over all incidents, computed by the database."""
    counts = service.count_incidents(session=session)
    return StatisticsOut(
        timestamp=clock.now(),
        statistics=IncidentStatistics(
            total_incidents=counts.total_incidents,
            count_LOW=counts.by_level[ThreatLevel.LOW],
            count_MEDIUM=counts.by_level[ThreatLevel.MEDIUM],
            count_HIGH=counts.by_level[ThreatLevel.HIGH],
            count_CRITICAL=counts.by_level[ThreatLevel.CRITICAL],
            weapons_detected=counts.weapons_detected,
            critical_incidents=counts.critical_incidents,
        ),
    )
