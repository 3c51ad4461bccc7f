"""Writes a stored incident's protocol and what it sets off, inside the report's transaction: everything
is decided first (recipients, the safe route's note, who is nearby), then each kind of row is written in
one bulk insert, so a report costs the same statements however many people it reaches.

The statements run as Core on the session's connection (a third of the ORM's Python work each); the
incident row is inserted first, since every other row refers to it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from safesphere.alerts import service as alerts_service
from safesphere.core.config import Settings
from safesphere.core.db import table
from safesphere.devices import service as devices_service
from safesphere.devices.commands import STEP_COMMANDS
from safesphere.devices.models import DeviceCommand
from safesphere.incidents import deliveries, escalation, safe_route, share_links, step_results, timeline
from safesphere.incidents.grouping import RepeatStep
from safesphere.incidents.models import (
    ACTION_EXECUTED,
    ALERT_PENDING,
    Incident,
    IncidentAction,
    IncidentAlert,
)
from safesphere.incidents.protocol import PlannedAction, Recipient, ResponsePlan
from safesphere.tracking import presence

SAFE_ROUTE_STEP = "safe_route"
_INSERT_INCIDENT = sa.insert(table(Incident)).returning(table(Incident).c.id)
_INSERT_ACTIONS = sa.insert(table(IncidentAction))
_INSERT_ALERTS = sa.insert(table(IncidentAlert)).returning(*table(IncidentAlert).c)


def insert_incident(session: Session, incident: Incident) -> int:
    """Inserts the new incident (it stays an unattached value) and returns its row id."""
    row_id: int = session.connection().scalar(_INSERT_INCIDENT, _incident_row(incident))
    return row_id


def record_repeat_steps(
    session: Session, incident_id: str, steps: Sequence[RepeatStep], executed_at: datetime
) -> list[IncidentAction]:
    """A grouped report's own protocol record (``grouping.repeat_record``), in one bulk insert."""
    actions = [
        IncidentAction(
            incident_id=incident_id, action_type=step.action_type, description=step.description,
            executed_at=executed_at, status=step.status, result=step.result,
        )
        for step in steps
    ]  # fmt: skip
    if actions:
        session.connection().execute(_INSERT_ACTIONS, [_action_row(action) for action in actions])
    return actions


def after_incident_escalated(
    *,
    session: Session,
    settings: Settings,
    incident: Incident,
    previous_level: str,
    report_id: str,
    plan: ResponsePlan,
    executed_at: datetime,
) -> list[IncidentAction]:
    """What a repeat that made an open incident worse sets off, in the report's transaction: the same
    reactions as a new incident's, for the steps that had not run yet. Returns those steps."""
    # Its timeline entry, its escalation clock by the new level, a live-location link when the new steps
    # message the contacts.
    timeline.add_event(session, incident.incident_id, "escalated_by_report", report_id=report_id,
                       from_level=previous_level, threat_level=incident.threat_level,
                       steps=[a.action_type for a in plan.actions])  # fmt: skip
    escalation.run_by_new_level(settings=settings, incident=incident)
    share_url = None
    if any(a.recipient == Recipient.emergency_contacts.value for a in plan.alerts):
        share_url = share_links.new_link(session=session, settings=settings, incident=incident)
    if incident.latitude is not None and incident.longitude is not None:
        alerts_service.raise_incident_alert(
            session=session, incident_id=incident.incident_id, threat_level=incident.threat_level
        )
    actions, _commands = _carry_out_steps(
        session=session, settings=settings, incident=incident, plan=plan, executed_at=executed_at,
        share_url=share_url, warn_nearby=previous_level not in alerts_service.WARNED_LEVELS,
    )  # fmt: skip
    return actions


def after_incident_recorded(
    *, session: Session, settings: Settings, incident: Incident, plan: ResponsePlan, executed_at: datetime
) -> tuple[list[IncidentAction], list[DeviceCommand]]:
    """Other domains react to a newly stored incident here, inside the report's transaction: each is one
    plain call, so whatever they write commits or fails with it. Returns the steps and device commands."""
    # The timeline and (HIGH/CRITICAL with an owner) the contacts' live-location link; the escalation
    # clock was set before the incident was stored (``escalation.start_escalation_clock``).
    timeline.add_event(session, incident.incident_id, "reported", threat_level=incident.threat_level,
                       action_taken=incident.action_taken, source_id=incident.source_id)  # fmt: skip
    share_url = share_links.new_link(session=session, settings=settings, incident=incident)
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
    return _carry_out_steps(
        session=session, settings=settings, incident=incident, plan=plan, executed_at=executed_at,
        share_url=share_url, warn_nearby=True,
    )  # fmt: skip


def _carry_out_steps(
    *,
    session: Session,
    settings: Settings,
    incident: Incident,
    plan: ResponsePlan,
    executed_at: datetime,
    share_url: str | None,
    warn_nearby: bool,
) -> tuple[list[IncidentAction], list[DeviceCommand]]:
    """Records the steps of ``plan`` and what they set off in other domains, in the report's transaction;
    returns the steps and the device's new commands. Everything is decided first, then written in bulk."""
    people = deliveries.people(session=session, user_id=incident.owner_id)
    alerts = _record_alerts(session, incident.incident_id, plan, executed_at, people)
    # Every message of the protocol becomes a delivery to real channels (notify's outbox).
    reached = deliveries.deliver_incident_alerts(
        session=session, settings=settings, incident=incident, alerts=alerts, people=people,
        share_url=share_url,
    )  # fmt: skip
    if warn_nearby and incident.latitude is not None and incident.longitude is not None:
        # Tourists close by are warned (HIGH/CRITICAL only).
        alerts_service.warn_tourists_nearby(
            session=session,
            incident_id=incident.incident_id,
            threat_level=incident.threat_level,
            latitude=incident.latitude,
            longitude=incident.longitude,
            seen_near=presence.seen_near,
        )
    # Recording, voice alerts and location streaming are instructions to the reporting device.
    commands = (
        []
        if incident.engine_key_id is None
        else devices_service.issue_for_incident(
            session=session,
            engine_key_id=incident.engine_key_id,
            incident_id=incident.incident_id,
            action_types=[a.action_type for a in plan.actions],
        )
    )
    messages: dict[str, list[step_results.MessageReach]] = {}
    for alert in alerts:
        reach = step_results.MessageReach(alert.recipient, reached.get(alert.id, ()))
        messages.setdefault(alert.action_type, []).append(reach)
    results = {
        planned.action_type: _step_result(session, incident, planned, messages.get(planned.action_type, []))
        for planned in plan.actions
    }
    return _record_actions(session, incident, plan, executed_at, results), commands


def _incident_row(incident: Incident) -> dict[str, Any]:
    """The new incident's column values; unset ones are left to their column defaults."""
    row = {}
    for attribute in sa.inspect(Incident).column_attrs:
        value = getattr(incident, attribute.key)
        if value is not None or attribute.columns[0].default is None:
            row[attribute.columns[0].key] = value
    row.pop("id")
    return row


def _record_actions(
    session: Session, incident: Incident, plan: ResponsePlan, executed_at: datetime, results: dict[str, str]
) -> list[IncidentAction]:
    """One action row per step of ``plan`` with its result, in one bulk insert; returned unattached
    (nothing changes them later)."""
    actions = [
        IncidentAction(
            incident_id=incident.incident_id,
            action_type=planned.action_type,
            description=planned.description,
            executed_at=executed_at,
            status=ACTION_EXECUTED,
            result=results[planned.action_type],
        )
        for planned in plan.actions
    ]
    if actions:
        session.connection().execute(_INSERT_ACTIONS, [_action_row(action) for action in actions])
    return actions


def _step_result(
    session: Session, incident: Incident, planned: PlannedAction, messages: list[step_results.MessageReach]
) -> str:
    """What really happened for one step (``step_results``); the CRITICAL protocol's safe route step notes
    the nearest police station."""
    command = STEP_COMMANDS.get(planned.action_type)
    return step_results.step_result(
        messages=messages,
        located=incident.latitude is not None and incident.longitude is not None,
        command=command.type if command is not None else None,
        has_device=incident.engine_key_id is not None,
        route_note=(
            safe_route.safe_route_note(session=session, incident=incident)
            if planned.action_type == SAFE_ROUTE_STEP
            else None
        ),
    )


def _action_row(action: IncidentAction) -> dict[str, Any]:
    return {
        "incident_id": action.incident_id,
        "action_type": action.action_type,
        "description": action.description,
        "executed_at": action.executed_at,
        "status": action.status,
        "result": action.result,
    }


def _record_alerts(
    session: Session,
    incident_id: str,
    plan: ResponsePlan,
    executed_at: datetime,
    people: deliveries.People,
) -> list[IncidentAlert]:
    """One alert row per message of ``plan``: pending, or ``no_recipients`` when nobody can receive it
    (e.g. contacts of an incident without an owner). One bulk insert returning the rows (their ids key the
    deliveries); rows come back in any order, so they are sorted by id, which is all callers need."""
    rows = [
        {
            "incident_id": incident_id,
            "action_type": alert.action_type,
            "alert_type": alert.alert_type,
            "recipient": alert.recipient,
            "message": alert.message,
            "status": ALERT_PENDING if people.recipients(alert.recipient) else deliveries.NO_RECIPIENTS,
            "created_at": executed_at,
        }
        for alert in plan.alerts
    ]
    if not rows:
        return []
    stored = session.connection().execute(_INSERT_ALERTS, rows)
    return sorted((IncidentAlert(**row._asdict()) for row in stored), key=lambda alert: alert.id)
