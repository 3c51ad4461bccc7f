"""Use cases of threat incidents: report one (store it and run the response protocol), read, list, count."""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from typing import Protocol as Interface

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from safesphere.alerts import service as alerts_service
from safesphere.core import clock
from safesphere.core.config import Settings
from safesphere.core.errors import Conflict, InvalidInput, NotFound, ServiceUnavailable
from safesphere.devices import service as devices_service
from safesphere.devices.models import DeviceCommand
from safesphere.evidence import service as evidence_service
from safesphere.evidence.models import Evidence
from safesphere.incidents import response
from safesphere.incidents.ids import new_incident_id
from safesphere.incidents.models import (
    ACTION_EXECUTED,
    ALERT_PENDING,
    Incident,
    IncidentAction,
    IncidentAlert,
    IncidentStatus,
    LocationSource,
)
from safesphere.incidents.protocol import IncidentFacts, Protocol, ResponsePlan, ThreatLevel, plan_response
from safesphere.incidents.schemas import ThreatReportIn
from safesphere.notify import sources as notify_sources

logger = logging.getLogger(__name__)

GENERATED_ID_ATTEMPTS = 5
"""A made id collides only if two reports share a millisecond and 16 random bits; retrying is enough."""


class ReportingEngine(Interface):
    """The authenticated engine a report came from (``auth.access.EnginePrincipal`` is one)."""

    @property
    def key_id(self) -> int: ...
    @property
    def name(self) -> str: ...
    @property
    def owner_id(self) -> int | None: ...
    @property
    def latitude(self) -> float | None: ...
    @property
    def longitude(self) -> float | None: ...


@dataclass(frozen=True)
class ReportOutcome:
    """A stored incident and its protocol actions; ``replayed`` when a retry returned the original."""

    incident: Incident
    actions: list[IncidentAction]
    commands: list[DeviceCommand]
    replayed: bool

    @property
    def message(self) -> str:
        return f"Threat incident {self.incident.threat_level} logged and actions executed"


def report_threat(
    *,
    session: Session,
    settings: Settings,
    protocol: Protocol,
    engine: ReportingEngine,
    report: ThreatReportIn,
) -> ReportOutcome:
    """Store a reported incident and record its protocol in one transaction; a retry of the same report
    returns the original result, the same id with a different body is a 409."""
    _check_telemetry_size(report.full_telemetry, settings.max_telemetry_bytes)
    request_hash = _request_hash(report)
    if report.incident_id is not None:
        existing = get_incident(session=session, incident_id=report.incident_id)
        if existing is not None:
            return _replay(session=session, incident=existing, request_hash=request_hash, engine=engine)
    for _attempt in range(GENERATED_ID_ATTEMPTS):
        received_at = clock.now()
        incident = _new_incident(report, engine, request_hash, received_at, settings)
        plan = plan_response(protocol, _facts(incident))
        try:
            # The other domains' writes flush early (delivery keys need row ids), so a racing duplicate of
            # the incident id can surface at any flush in here, not only at the commit.
            actions, alerts = _record_plan(session, incident, plan, received_at)
            session.flush()
            commands = _after_incident_recorded(
                session=session, settings=settings, incident=incident, actions=actions, alerts=alerts
            )
            session.commit()
        except IntegrityError:
            session.rollback()
            if report.incident_id is None:
                continue  # a made id collided: make another
            existing = get_incident(session=session, incident_id=report.incident_id)
            if existing is None:
                raise
            return _replay(session=session, incident=existing, request_hash=request_hash, engine=engine)
        logger.info(
            "incident %s recorded: %s",
            incident.incident_id,
            plan.action_taken,
            extra={"incident_id": incident.incident_id, "threat_level": incident.threat_level},
        )
        return ReportOutcome(incident=incident, actions=actions, commands=commands, replayed=False)
    raise ServiceUnavailable("Could not allocate a unique incident id; retry the report")


def _after_incident_recorded(
    *,
    session: Session,
    settings: Settings,
    incident: Incident,
    actions: list[IncidentAction],
    alerts: list[IncidentAlert],
) -> list[DeviceCommand]:
    """Other domains react to a newly stored incident here, inside the report's transaction: each is one
    plain call, so whatever they write commits or fails with it. Returns the device's commands."""
    # The timeline, the escalation clock and the contacts' live-location link.
    share_url = response.on_reported(session=session, settings=settings, incident=incident)
    # Every message of the protocol becomes a delivery to real channels (notify's outbox).
    notify_sources.deliver_incident_alerts(
        session=session, settings=settings, incident=incident, alerts=alerts, share_url=share_url
    )
    if incident.latitude is not None and incident.longitude is not None:
        # A located threat lowers the safety score of the street around it and shows in nearby risks.
        alerts_service.record_incident_alert(
            session=session,
            incident_id=incident.incident_id,
            threat_level=incident.threat_level,
            latitude=incident.latitude,
            longitude=incident.longitude,
            occurred_at=incident.timestamp,
            description=incident.behavior_summary,
        )
        # Tourists close by are warned (HIGH/CRITICAL only).
        alerts_service.warn_tourists_nearby(
            session=session,
            incident_id=incident.incident_id,
            threat_level=incident.threat_level,
            latitude=incident.latitude,
            longitude=incident.longitude,
        )
    # The CRITICAL protocol's safe route: the nearest police station, noted on its step.
    response.record_safe_route(session=session, incident=incident, actions=actions)
    # Recording, voice alerts and location streaming are instructions to the reporting device.
    if incident.engine_key_id is None:
        return []
    return devices_service.issue_for_incident(
        session=session,
        engine_key_id=incident.engine_key_id,
        incident_id=incident.incident_id,
        action_types=[a.action_type for a in actions],
    )


def _check_telemetry_size(telemetry: dict[str, Any], max_bytes: int) -> None:
    """The telemetry's size is measured as compact UTF-8 JSON, the form it is stored in."""
    size = len(json.dumps(telemetry, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
    if size > max_bytes:
        raise InvalidInput(
            f"is {size} bytes as JSON; at most {max_bytes} bytes are accepted", loc=("body", "full_telemetry")
        )


def _request_hash(report: ThreatReportIn) -> str:
    canonical = json.dumps(
        report.model_dump(mode="json"), sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _replay(
    *, session: Session, incident: Incident, request_hash: str, engine: ReportingEngine
) -> ReportOutcome:
    if incident.request_hash != request_hash or incident.engine_key_id != engine.key_id:
        logger.warning(
            "incident %s reported again with a different body",
            incident.incident_id,
            extra={"incident_id": incident.incident_id, "engine_key_id": engine.key_id},
        )
        raise Conflict(f"Incident {incident.incident_id} was already reported with a different body")
    logger.info(
        "incident %s retried: original result returned",
        incident.incident_id,
        extra={"incident_id": incident.incident_id},
    )
    return ReportOutcome(
        incident=incident,
        actions=list_actions(session=session, incident_id=incident.incident_id),
        commands=devices_service.for_incident(session=session, incident_id=incident.incident_id),
        replayed=True,
    )


def _location(
    report: ThreatReportIn, engine: ReportingEngine
) -> tuple[float | None, float | None, float | None, str | None]:
    """A fixed camera's configured place wins over what a report says; otherwise the report's own."""
    if engine.latitude is not None and engine.longitude is not None:
        return engine.latitude, engine.longitude, None, LocationSource.engine_key.value
    if (report.latitude is None) != (report.longitude is None):
        missing = "longitude" if report.longitude is None else "latitude"
        raise InvalidInput("latitude and longitude must be given together", loc=("body", missing))
    if report.latitude is None:
        return None, None, None, None
    return report.latitude, report.longitude, report.location_accuracy_m, LocationSource.report.value


def _new_incident(
    report: ThreatReportIn,
    engine: ReportingEngine,
    request_hash: str,
    received_at: datetime,
    settings: Settings,
) -> Incident:
    latitude, longitude, accuracy, location_source = _location(report, engine)
    timestamp = (
        clock.ensure_utc(report.timestamp, naive_zone=settings.tz) if report.timestamp else received_at
    )
    return Incident(
        incident_id=report.incident_id or new_incident_id(received_at),
        timestamp=timestamp,
        threat_level=report.threat_level.value,
        threat_score=report.threat_score,
        people_count=report.people_count,
        weapon_detected=report.weapon_detected,
        weapon_types=list(report.weapon_types),
        behavior_summary=report.behavior_summary,
        is_critical=(
            report.is_critical
            if report.is_critical is not None
            else report.threat_level is ThreatLevel.CRITICAL
        ),
        full_telemetry=report.full_telemetry,
        latitude=latitude,
        longitude=longitude,
        location_accuracy_m=accuracy,
        location_source=location_source,
        source_id=report.source_id or engine.name,
        engine_key_id=engine.key_id,
        owner_id=engine.owner_id,
        request_hash=request_hash,
        status=IncidentStatus.logged.value,
        created_at=received_at,
        updated_at=received_at,
    )


def _facts(incident: Incident) -> IncidentFacts:
    return IncidentFacts(
        incident_id=incident.incident_id,
        threat_level=ThreatLevel(incident.threat_level),
        threat_score=incident.threat_score,
        people_count=incident.people_count,
        weapon_detected=incident.weapon_detected,
        weapon_types=tuple(incident.weapon_types),
        behavior_summary=incident.behavior_summary,
        is_critical=incident.is_critical,
        latitude=incident.latitude,
        longitude=incident.longitude,
        source_id=incident.source_id,
        owner_id=incident.owner_id,
    )


def _record_plan(
    session: Session, incident: Incident, plan: ResponsePlan, executed_at: datetime
) -> tuple[list[IncidentAction], list[IncidentAlert]]:
    """Adds the incident, one action row per step and one pending alert row per message."""
    actions = [
        IncidentAction(
            incident_id=incident.incident_id,
            action_type=planned.action_type,
            description=planned.description,
            executed_at=executed_at,
            status=ACTION_EXECUTED,
            result=(
                f"{len(planned.alerts)} alert(s) pending: {', '.join(a.recipient for a in planned.alerts)}"
                if planned.alerts
                else "recorded"
            ),
        )
        for planned in plan.actions
    ]
    alerts = [
        IncidentAlert(
            incident_id=incident.incident_id,
            action_type=alert.action_type,
            alert_type=alert.alert_type,
            recipient=alert.recipient,
            message=alert.message,
            status=ALERT_PENDING,
            created_at=executed_at,
        )
        for alert in plan.alerts
    ]
    incident.status = IncidentStatus.actions_executed.value
    incident.action_taken = plan.action_taken
    session.add(incident)
    session.add_all(actions)
    session.add_all(alerts)
    return actions, alerts


def get_incident(*, session: Session, incident_id: str) -> Incident | None:
    """The incident with this id, or None."""
    return session.scalar(sa.select(Incident).where(Incident.incident_id == incident_id))


def require_incident(*, session: Session, incident_id: str) -> Incident:
    """The incident with this id; 404 ``Incident not found`` otherwise."""
    incident = get_incident(session=session, incident_id=incident_id)
    if incident is None:
        raise NotFound("Incident not found")
    return incident


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


def get_incident_detail(*, session: Session, incident_id: str) -> IncidentDetail:
    """An incident with its actions, alerts and evidence; 404 when unknown."""
    incident = require_incident(session=session, incident_id=incident_id)
    return IncidentDetail(
        incident=incident,
        actions=list_actions(session=session, incident_id=incident_id),
        alerts=list_alerts(session=session, incident_id=incident_id),
        evidence=evidence_service.list_for_incident(session=session, incident_id=incident_id),
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


def count_incidents(*, session: Session) -> IncidentCounts:
    """Totals by level, weapon and criticality, in one aggregate query (rows are never loaded)."""

    def count_where(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
        return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)

    levels = list(ThreatLevel)
    row = session.execute(
        sa.select(
            sa.func.count(),
            count_where(Incident.weapon_detected.is_(True)),
            count_where(Incident.is_critical.is_(True)),
            *(count_where(Incident.threat_level == level.value) for level in levels),
        ).select_from(Incident)
    ).one()
    total, weapons, critical, *per_level = row
    return IncidentCounts(
        total_incidents=int(total),
        by_level={level: int(n) for level, n in zip(levels, per_level, strict=True)},
        weapons_detected=int(weapons),
        critical_incidents=int(critical),
    )
