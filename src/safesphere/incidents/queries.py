"""Reading incidents: one with its actions, alerts and evidence, a filtered page, the counts by level."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from safesphere.core import clock
from safesphere.core.config import Settings
from safesphere.core.db import Database
from safesphere.core.errors import Forbidden, InvalidInput, NotFound
from safesphere.evidence import service as evidence_service
from safesphere.evidence.models import Evidence
from safesphere.incidents.lifecycle import OPEN
from safesphere.incidents.models import Incident, IncidentAction, IncidentAlert
from safesphere.incidents.protocol import ThreatLevel
from safesphere.notify import service as notify_service


def get_incident(*, session: Session, incident_id: str) -> Incident | None:
    """The incident with this id, or None."""
    return session.scalar(sa.select(Incident).where(Incident.incident_id == incident_id))


def require_incident(*, session: Session, incident_id: str) -> Incident:
    """The incident with this id; 404 ``Incident not found`` otherwise."""
    incident = get_incident(session=session, incident_id=incident_id)
    if incident is None:
        raise NotFound("Incident not found")
    return incident


def grouped_reports(*, session: Session, incident_id: str) -> list[Incident]:
    """The reports grouped into an incident, oldest first (none for a report that is itself grouped)."""
    query = sa.select(Incident).where(Incident.grouped_into == incident_id)
    return list(session.scalars(query.order_by(Incident.timestamp, Incident.id)))


def case_evidence(*, session: Session, incident: Incident, grouped: list[Incident]) -> list[Evidence]:
    """An incident's evidence with that uploaded under the reports grouped into it."""
    ids = [incident.incident_id, *(report.incident_id for report in grouped)]
    return evidence_service.list_for_incidents(session=session, incident_ids=ids)


def incident_evidence(*, session: Session, incident_id: str) -> list[Evidence]:
    """The evidence of an incident and of the reports grouped into it; 404 when the incident is unknown."""
    incident = require_incident(session=session, incident_id=incident_id)
    return case_evidence(
        session=session, incident=incident, grouped=grouped_reports(session=session, incident_id=incident_id)
    )


def evidence_target(*, database: Database, incident_id: str, engine_key_id: int | None) -> str:
    """The incident an upload attaches to (a grouped report keeps its own; its open incident shows it);
    404 when unknown; an engine (``engine_key_id``) may upload only for incidents it reported."""
    with database.read_session() as session:
        incident = require_incident(session=session, incident_id=incident_id)
    if engine_key_id is not None and incident.engine_key_id != engine_key_id:
        raise Forbidden("An engine may upload evidence only for incidents it reported")
    return incident.incident_id


def list_actions(*, session: Session, incident_id: str) -> list[IncidentAction]:
    query = sa.select(IncidentAction).where(IncidentAction.incident_id == incident_id)
    return list(session.scalars(query.order_by(IncidentAction.id)))


def list_alerts(*, session: Session, incident_id: str) -> list[IncidentAlert]:
    query = sa.select(IncidentAlert).where(IncidentAlert.incident_id == incident_id)
    return list(session.scalars(query.order_by(IncidentAlert.id)))


@dataclass(frozen=True)
class IncidentDetail:
    incident: Incident
    actions: list[IncidentAction]
    alerts: list[IncidentAlert]
    evidence: list[Evidence]
    grouped_reports: list[Incident]


def get_incident_detail(*, session: Session, incident_id: str) -> IncidentDetail:
    """An incident with its actions, alerts, evidence (its grouped reports' too) and grouped reports;
    404 when unknown."""
    incident = require_incident(session=session, incident_id=incident_id)
    grouped = grouped_reports(session=session, incident_id=incident_id)
    return IncidentDetail(
        incident=incident,
        actions=list_actions(session=session, incident_id=incident_id),
        alerts=list_alerts(session=session, incident_id=incident_id),
        evidence=case_evidence(session=session, incident=incident, grouped=grouped),
        grouped_reports=grouped,
    )


@dataclass(frozen=True)
class IncidentPage:
    total: int
    incidents: list[Incident]


def list_incidents(
    *,
    session: Session,
    settings: Settings,
    threat_level: ThreatLevel | None = None,
    status: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 100,
    offset: int = 0,
) -> IncidentPage:
    """Incidents matching the filters, newest first by the time the threat was seen.

    ``since`` is inclusive and ``until`` exclusive; naive bounds are read in the default time zone.
    """
    since = clock.ensure_utc(since, naive_zone=settings.tz) if since else None
    until = clock.ensure_utc(until, naive_zone=settings.tz) if until else None
    if since is not None and until is not None and until < since:
        raise InvalidInput("must not be before since", loc=("query", "until"))
    conditions: list[sa.ColumnElement[bool]] = []
    if threat_level is not None:
        conditions.append(Incident.threat_level == threat_level.value)
    if status is not None:
        conditions.append(Incident.status == status)
    if since is not None:
        conditions.append(Incident.timestamp >= since)
    if until is not None:
        conditions.append(Incident.timestamp < until)
    total = session.scalar(sa.select(sa.func.count()).select_from(Incident).where(*conditions)) or 0
    query = (
        sa.select(Incident)
        .where(*conditions)
        .order_by(Incident.timestamp.desc(), Incident.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return IncidentPage(total=total, incidents=list(session.scalars(query)))


@dataclass(frozen=True)
class IncidentCounts:
    total_incidents: int
    by_level: dict[ThreatLevel, int]
    weapons_detected: int
    critical_incidents: int
    grouped_reports: int
    open_cases: int


def count_incidents(*, session: Session) -> IncidentCounts:
    """Totals of reports by level, weapon and criticality, how many are grouped and how many cases are
    open, in one aggregate query (rows are never loaded)."""

    def count_where(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
        return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)

    levels = list(ThreatLevel)
    row = session.execute(
        sa.select(
            sa.func.count(),
            count_where(Incident.weapon_detected.is_(True)),
            count_where(Incident.is_critical.is_(True)),
            count_where(Incident.grouped_into.is_not(None)),
            count_where(
                sa.and_(Incident.grouped_into.is_(None), Incident.status.in_([s.value for s in OPEN]))
            ),
            *(count_where(Incident.threat_level == level.value) for level in levels),
        ).select_from(Incident)
    ).one()
    total, weapons, critical, grouped, open_cases, *per_level = row
    return IncidentCounts(
        total_incidents=int(total),
        by_level={level: int(n) for level, n in zip(levels, per_level, strict=True)},
        weapons_detected=int(weapons),
        critical_incidents=int(critical),
        grouped_reports=int(grouped),
        open_cases=int(open_cases),
    )


@dataclass(frozen=True)
class ResponseAnalytics:
    time_to_notify_p50_ms: int | None
    time_to_notify_p95_ms: int | None
    time_to_acknowledge_p50_ms: int | None
    time_to_acknowledge_p95_ms: int | None
    deliveries: dict[str, int]


def _percentile(
    session: Session, column: sa.orm.InstrumentedAttribute[int | None], share: float
) -> int | None:
    """The nearest-rank percentile of a column, by the database (count, then one ordered row)."""
    present = column.is_not(None)
    count = session.scalar(sa.select(sa.func.count()).where(present)) or 0
    if count == 0:
        return None
    rank = max(1, math.ceil(round(share * count, 6)))
    return session.scalar(sa.select(column).where(present).order_by(column).offset(rank - 1).limit(1))


def response_analytics(*, session: Session) -> ResponseAnalytics:
    """How fast police were told and acknowledged (p50/p95 over incidents), and the deliveries by status."""
    return ResponseAnalytics(
        time_to_notify_p50_ms=_percentile(session, Incident.response_time_ms, 0.50),
        time_to_notify_p95_ms=_percentile(session, Incident.response_time_ms, 0.95),
        time_to_acknowledge_p50_ms=_percentile(session, Incident.time_to_acknowledge_ms, 0.50),
        time_to_acknowledge_p95_ms=_percentile(session, Incident.time_to_acknowledge_ms, 0.95),
        deliveries=notify_service.delivery_counts(session=session),
    )
