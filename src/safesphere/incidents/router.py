"""Threat reports from engines, and the incident views for police and security (SafeSphere Backend API)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from safesphere.auth import service as auth_service
from safesphere.auth.access import AuthorityUser, EngineKeyAuth, Public
from safesphere.core import clock
from safesphere.core.dependencies import DbSession, ReadSession, SettingsDep
from safesphere.core.errors import responses
from safesphere.core.params import Instant
from safesphere.core.writer import WriterDep
from safesphere.devices.schemas import CommandOut
from safesphere.incidents import moves, queries, safe_route, service, share_links, share_page
from safesphere.incidents import timeline as incident_timeline
from safesphere.incidents.lifecycle import Move
from safesphere.incidents.models import Incident
from safesphere.incidents.protocol import Protocol, ThreatLevel
from safesphere.incidents.schemas import (
    AcknowledgeIn,
    ActionOut,
    DispatchIn,
    IncidentId,
    IncidentListOut,
    IncidentOut,
    IncidentStatistics,
    IncidentStatusOut,
    IncidentSummary,
    NoteIn,
    ResolveIn,
    ResponseAnalyticsOut,
    SharedFixOut,
    SharedLocationOut,
    StatisticsOut,
    ThreatLevelListOut,
    ThreatReportIn,
    ThreatReportOut,
    TimelineEntryOut,
    TimelineOut,
)
from safesphere.places.schemas import SafeRouteOut

MAX_PAGE = 1000
"""The largest page a list returns; beyond it, page with ``offset``."""
MAX_OFFSET = 1_000_000_000
"""Far past any real table, and small enough for every database's integer type."""
STATUS_PATTERN = r"^[a-z_]{1,32}$"

router = APIRouter(tags=["incidents"])

IncidentIdPath = Annotated[IncidentId, Path(max_length=64, description="The incident's id.")]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description="At most this many incidents (1-1000).")]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Skip this many incidents.")]


async def get_protocol(request: Request) -> Protocol:
    """The response protocol loaded (and validated) when the app was created (``async``: no thread hop)."""
    protocol: Protocol = request.app.state.protocol
    return protocol


ProtocolDep = Annotated[Protocol, Depends(get_protocol)]


@router.post(
    "/threats/report",
    response_model=ThreatReportOut,
    responses=responses(401, 403, n409="The incident id was already reported with a different body"),
)
async def report_threat(
    body: ThreatReportIn,
    writer: WriterDep,
    settings: SettingsDep,
    protocol: ProtocolDep,
    engine: EngineKeyAuth,
) -> ThreatReportOut:
    """Store a threat incident from a detection engine and run the response protocol for its level.

    Idempotent by ``incident_id``: a retry with the same body returns the original result. A repeat from
    the same source within the grouping window of its open incident is stored as its own incident grouped
    into that one: the steps the open incident already took are not repeated, a worse repeat escalates it.
    Answered once the report is durable (committed with others by the process's writer).
    """
    outcome = await service.report_threat(
        writer=writer, settings=settings, protocol=protocol, engine=engine, report=body
    )
    return ThreatReportOut(
        incident_id=outcome.incident.incident_id,
        message=outcome.message,
        action_taken=outcome.incident.action_taken or "",
        actions=[ActionOut.model_validate(action) for action in outcome.actions],
        commands=[CommandOut.from_command(command) for command in outcome.commands],
        report_id=outcome.incident.incident_id,
        grouped=outcome.grouped_into is not None,
        grouped_into=outcome.grouped_into,
        grouping=outcome.grouping.value if outcome.grouping is not None else None,
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
    page = queries.list_incidents(session=session, settings=settings, threat_level=level, limit=limit)
    incidents = [IncidentSummary.model_validate(incident) for incident in page.incidents]
    return ThreatLevelListOut(threat_level=level, count=len(incidents), incidents=incidents)


@router.get(
    "/incidents/{incident_id}",
    response_model=IncidentOut,
    responses=responses(401, 403, n404="Incident not found"),
)
def get_incident(incident_id: IncidentIdPath, session: ReadSession, _: AuthorityUser) -> IncidentOut:
    """One incident with its actions, alerts, evidence, location and full telemetry."""
    detail = queries.get_incident_detail(session=session, incident_id=incident_id)
    return IncidentOut.build(
        incident=detail.incident, actions=detail.actions, alerts=detail.alerts, evidence=detail.evidence,
        grouped_reports=detail.grouped_reports,
    )  # fmt: skip


@router.get("/incidents", response_model=IncidentListOut, responses=responses(401, 403))
def list_incidents(
    session: ReadSession,
    settings: SettingsDep,
    _: AuthorityUser,
    threat_level: ThreatLevel | None = None,
    status: Annotated[str | None, Query(pattern=STATUS_PATTERN)] = None,
    since: Annotated[Instant | None, Query(description="Seen at or after (naive: default zone).")] = None,
    until: Annotated[Instant | None, Query(description="Seen before (naive: default zone).")] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> IncidentListOut:
    """Incidents, newest first, filtered by level, status and the time the threat was seen."""
    page = queries.list_incidents(
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
    """Threat statistics over all incidents, and how fast police were told and acknowledged."""
    counts = queries.count_incidents(session=session)
    analytics = queries.response_analytics(session=session)
    return StatisticsOut(
        response_analytics=ResponseAnalyticsOut.model_validate(analytics, from_attributes=True),
        timestamp=clock.now(),
        statistics=IncidentStatistics(
            total_incidents=counts.total_incidents,
            count_LOW=counts.by_level[ThreatLevel.LOW],
            count_MEDIUM=counts.by_level[ThreatLevel.MEDIUM],
            count_HIGH=counts.by_level[ThreatLevel.HIGH],
            count_CRITICAL=counts.by_level[ThreatLevel.CRITICAL],
            weapons_detected=counts.weapons_detected,
            critical_incidents=counts.critical_incidents,
            grouped_reports=counts.grouped_reports,
            open_cases=counts.open_cases,
        ),
    )


MOVE_RESPONSES = responses(401, 403, 409, n404="Incident not found")


def _status_out(incident: Incident) -> IncidentStatusOut:
    return IncidentStatusOut.model_validate(incident, from_attributes=True)


def _move(session: DbSession, settings: SettingsDep, incident_id: str, action: Move, user_id: int,
          details: moves.MoveDetails) -> IncidentStatusOut:  # fmt: skip
    incident = moves.move(
        session=session,
        settings=settings,
        incident_id=incident_id,
        action=action,
        user_id=user_id,
        details=details,
    )
    return _status_out(incident)


@router.post(
    "/incidents/{incident_id}/acknowledge", response_model=IncidentStatusOut, responses=MOVE_RESPONSES
)
def acknowledge(
    incident_id: IncidentIdPath, session: DbSession, settings: SettingsDep, user: AuthorityUser,
    body: AcknowledgeIn | None = None,
) -> IncidentStatusOut:  # fmt: skip
    """Take the incident on: escalation stops at once. 409 if it is past acknowledgement."""
    notes = body.notes if body else None
    return _move(session, settings, incident_id, Move.acknowledge, user.id, moves.MoveDetails(notes=notes))


@router.post(
    "/incidents/{incident_id}/dispatch",
    response_model=IncidentStatusOut,
    responses=responses(
        401, 403, n404="Incident not found", n409="Incident closed or dispatched, or unit not available"
    ),
)
def dispatch(
    incident_id: IncidentIdPath,
    body: DispatchIn,
    session: DbSession,
    settings: SettingsDep,
    user: AuthorityUser,
) -> IncidentStatusOut:
    """Send a unit: a registered one by ``unit_id`` (409 unless it is available; it is dispatched until
    the incident closes) or one named in free text (``unit``). 409 if the incident is closed or already
    dispatched."""
    details = moves.MoveDetails(notes=body.notes, unit=body.unit, unit_id=body.unit_id)
    return _move(session, settings, incident_id, Move.dispatch, user.id, details)


@router.post("/incidents/{incident_id}/resolve", response_model=IncidentStatusOut, responses=MOVE_RESPONSES)
def resolve(
    incident_id: IncidentIdPath,
    body: ResolveIn,
    session: DbSession,
    settings: SettingsDep,
    user: AuthorityUser,
) -> IncidentStatusOut:
    """Close the incident as resolved or a false alarm; its share links expire after the grace period."""
    action = Move.false_alarm if body.outcome == "false_alarm" else Move.resolve
    return _move(session, settings, incident_id, action, user.id, moves.MoveDetails(notes=body.notes))


@router.post(
    "/incidents/{incident_id}/notes", status_code=201, response_model=TimelineEntryOut,
    responses=responses(401, 403, n404="Incident not found"),
)  # fmt: skip
def add_note(
    incident_id: IncidentIdPath, body: NoteIn, session: DbSession, user: AuthorityUser
) -> TimelineEntryOut:
    event = incident_timeline.add_note(
        session=session, incident_id=incident_id, user_id=user.id, text=body.text
    )
    return TimelineEntryOut(
        at=event.at, kind=event.kind, actor_id=event.actor_id, details=dict(event.details)
    )


@router.get(
    "/incidents/{incident_id}/timeline", response_model=TimelineOut,
    responses=responses(401, 403, n404="Incident not found"),
)  # fmt: skip
def timeline(incident_id: IncidentIdPath, session: ReadSession, _: AuthorityUser) -> TimelineOut:
    """Every change, note, escalation and delivery outcome of the incident, oldest first."""
    entries = incident_timeline.timeline(session=session, incident_id=incident_id)
    incident = queries.require_incident(session=session, incident_id=incident_id)
    actors = {e.actor_id for e in entries if e.actor_id is not None}
    emails = auth_service.emails_by_id(session=session, user_ids=actors)
    return TimelineOut(
        incident_id=incident_id,
        status=incident.status,
        entries=[
            TimelineEntryOut(
                at=e.at,
                kind=e.kind,
                actor_id=e.actor_id,
                actor_email=emails.get(e.actor_id or 0),
                details=e.details,
            )
            for e in entries
        ],
    )


@router.get(
    "/incidents/{incident_id}/safe-route", response_model=SafeRouteOut,
    responses=responses(401, 403, n404="Incident not found, no location, or no police station"),
)  # fmt: skip
def incident_safe_route(
    incident_id: IncidentIdPath, session: ReadSession, settings: SettingsDep, _: AuthorityUser
) -> SafeRouteOut:
    """The way from the protected person's latest fix (else the threat's place) to the nearest police
    station: distance, bearing, walking time, and a walking route when a routing service is set."""
    return SafeRouteOut.from_route(
        safe_route.incident_safe_route(session=session, settings=settings, incident_id=incident_id)
    )


ShareToken = Annotated[str, Path(min_length=20, max_length=100, pattern=r"^[A-Za-z0-9_-]+$")]
SHARE_RESPONSES = responses(n404="Share link not found or expired")


def _shared(session: ReadSession, token: str) -> SharedLocationOut:
    shared = share_links.shared_location(session=session, token=token)
    incident = shared.incident
    where = {"lat": incident.latitude, "lon": incident.longitude} if incident.latitude is not None else None
    return SharedLocationOut(
        incident_id=incident.incident_id,
        threat_level=incident.threat_level,
        status=incident.status,
        incident_location=where,
        latest_fixes=[SharedFixOut(lat=a, lon=o, timestamp=t, accuracy=c) for a, o, t, c in shared.fixes],
        expires_at=shared.link.expires_at,
    )


@router.get(
    "/share/{token}", response_model=SharedLocationOut, tags=["share"],
    responses=SHARE_RESPONSES | {200: {"content": {"text/html": {}}}},
)  # fmt: skip
def shared_location(
    token: ShareToken, request: Request, reply: Response, session: ReadSession, _: Public
) -> SharedLocationOut | HTMLResponse:
    """The protected person's latest positions, for whoever holds the link (their emergency contacts): a
    page for a browser (``Accept: text/html``), JSON for a program."""
    shared = _shared(session, token)
    if share_page.wants_html(request.headers.get("accept")):
        return _page(shared)
    reply.headers.update(share_page.SECURITY_HEADERS)
    return shared


@router.get("/share/{token}/map", response_class=HTMLResponse, responses=SHARE_RESPONSES, tags=["share"])
def shared_map(token: ShareToken, session: ReadSession, _: Public) -> HTMLResponse:
    """The same page whatever the Accept header: the latest position, its age and accuracy, the recent
    track; it refreshes itself."""
    return _page(_shared(session, token))


def _page(shared: SharedLocationOut) -> HTMLResponse:
    return HTMLResponse(share_page.render(shared, clock.now()), headers=share_page.SECURITY_HEADERS)
