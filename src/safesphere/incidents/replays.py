"""Idempotent reporting: a report retried with its ``incident_id`` gets the original result back, the
same id with a different body (or from another engine) a 409."""

from __future__ import annotations

import hashlib
import json
import logging

import sqlalchemy as sa
from sqlalchemy.orm import Session

from safesphere.core.db import table
from safesphere.core.errors import Conflict
from safesphere.devices import service as devices_service
from safesphere.incidents import queries
from safesphere.incidents.models import Incident, IncidentAction, IncidentReport, ReportGrouping
from safesphere.incidents.outcome import ReportingEngine, ReportOutcome
from safesphere.incidents.schemas import ThreatReportIn

logger = logging.getLogger(__name__)


def request_hash(report: ThreatReportIn) -> str:
    canonical = json.dumps(
        report.model_dump(mode="json"), sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


REPORTED_BEFORE = sa.select(
    sa.or_(
        sa.exists().where(table(Incident).c.incident_id == sa.bindparam("report_id")),
        sa.exists().where(table(IncidentReport).c.report_id == sa.bindparam("report_id")),
    )
)


def reported_before(session: Session, report_id: str) -> bool:
    """Whether ``report_id`` was stored before, as an incident or as a grouped report (one cheap query)."""
    return bool(session.connection().scalar(REPORTED_BEFORE, {"report_id": report_id}))


def find_replay(
    session: Session, report_id: str, request_hash: str, engine: ReportingEngine
) -> ReportOutcome | None:
    """The original result when ``report_id`` was reported before (as an incident of its own or grouped
    into one); a 409 when that report had a different body or came from another engine; else None."""
    incident = queries.get_incident(session=session, incident_id=report_id)
    if incident is not None:
        _check_same_report(report_id, incident.request_hash, incident.engine_key_id, request_hash, engine)
        actions = queries.list_actions(session=session, incident_id=incident.incident_id)
        grouped: IncidentReport | None = None
    else:
        grouped = session.scalar(sa.select(IncidentReport).where(IncidentReport.report_id == report_id))
        if grouped is None:
            return None
        _check_same_report(report_id, grouped.request_hash, grouped.engine_key_id, request_hash, engine)
        incident = queries.require_incident(session=session, incident_id=grouped.incident_id)
        actions = _steps_run_by(session, grouped)
    logger.info(
        "incident %s retried: original result returned",
        report_id,
        extra={"incident_id": incident.incident_id},
    )
    return ReportOutcome(
        incident=incident,
        actions=actions,
        commands=devices_service.for_incident(session=session, incident_id=incident.incident_id),
        replayed=True,
        report_id=report_id,
        grouping=ReportGrouping(grouped.grouping) if grouped is not None else None,
        report_level=grouped.threat_level if grouped is not None else None,
    )


def _steps_run_by(session: Session, grouped: IncidentReport) -> list[IncidentAction]:
    """The steps a grouped report ran: none when it attached; an escalating one's carry its receipt time."""
    if grouped.grouping != ReportGrouping.escalated.value:
        return []
    query = sa.select(IncidentAction).where(
        IncidentAction.incident_id == grouped.incident_id, IncidentAction.executed_at == grouped.received_at
    )
    return list(session.scalars(query.order_by(IncidentAction.id)))


def _check_same_report(
    report_id: str,
    stored_hash: str,
    stored_key_id: int | None,
    request_hash: str,
    engine: ReportingEngine,
) -> None:
    if stored_hash != request_hash or stored_key_id != engine.key_id:
        logger.warning(
            "incident %s reported again with a different body",
            report_id,
            extra={"incident_id": report_id, "engine_key_id": engine.key_id},
        )
        raise Conflict(f"Incident {report_id} was already reported with a different body")
