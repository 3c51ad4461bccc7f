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
from safesphere.incidents.models import ACTION_EXECUTED, Incident, ReportGrouping
from safesphere.incidents.outcome import ReportingEngine, ReportOutcome
from safesphere.incidents.schemas import ThreatReportIn

logger = logging.getLogger(__name__)


def request_hash(report: ThreatReportIn) -> str:
    canonical = json.dumps(
        report.model_dump(mode="json"), sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


REPORTED_BEFORE = sa.select(sa.exists().where(table(Incident).c.incident_id == sa.bindparam("report_id")))


def reported_before(session: Session, report_id: str) -> bool:
    """Whether ``report_id`` was stored before (one cheap query; every report is its own incident)."""
    return bool(session.connection().scalar(REPORTED_BEFORE, {"report_id": report_id}))


def find_replay(
    session: Session, report_id: str, request_hash: str, engine: ReportingEngine
) -> ReportOutcome | None:
    """The original result when ``report_id`` was reported before; a 409 when that report had a different
    body or came from another engine; else None."""
    incident = queries.get_incident(session=session, incident_id=report_id)
    if incident is None:
        return None
    _check_same_report(report_id, incident.request_hash, incident.engine_key_id, request_hash, engine)
    actions = queries.list_actions(session=session, incident_id=incident.incident_id)
    grouping = None
    if incident.grouped_into is not None:
        # A grouped report escalated its open incident exactly when a step ran for it.
        escalated = any(action.status == ACTION_EXECUTED for action in actions)
        grouping = ReportGrouping.escalated if escalated else ReportGrouping.attached
    logger.info(
        "incident %s retried: original result returned",
        report_id,
        extra={"incident_id": incident.incident_id},
    )
    return ReportOutcome(
        incident=incident,
        actions=actions,
        commands=devices_service.for_incident(
            session=session, incident_id=incident.grouped_into or incident.incident_id
        ),
        replayed=True,
        grouping=grouping,
    )


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
