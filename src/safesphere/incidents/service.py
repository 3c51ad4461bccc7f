"""Reporting a threat incident: store it (or group a repeat into its open incident) and run the response
protocol, idempotently (retries: ``replays``). Reading incidents is ``queries``; writing what a report sets
off is ``recording``."""

from __future__ import annotations

import functools
import hashlib
import logging
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from safesphere.alerts import service as alerts_service
from safesphere.auth import service as auth_service
from safesphere.core import clock, jsoncodec
from safesphere.core.config import Settings
from safesphere.core.db import UTCDateTime, table
from safesphere.core.errors import InvalidInput, NotAuthenticated, ServiceUnavailable
from safesphere.core.logging import Sampler
from safesphere.core.writer import Writer
from safesphere.devices import service as devices_service
from safesphere.incidents import (
    escalation,
    event_time,
    grouping,
    lifecycle,
    placing,
    recording,
    replays,
    timeline,
)
from safesphere.incidents.ids import new_incident_id
from safesphere.incidents.models import (
    ACTION_EXECUTED,
    Incident,
    IncidentAction,
    IncidentStatus,
    LocationSource,
    ReportGrouping,
)
from safesphere.incidents.outcome import ReportingEngine, ReportOutcome
from safesphere.incidents.protocol import (
    IncidentFacts,
    Protocol,
    ThreatLevel,
    plan_response,
)
from safesphere.incidents.schemas import ThreatReportIn

logger = logging.getLogger(__name__)

_REPORT_LINES = Sampler()

GENERATED_ID_ATTEMPTS = 5
"""A made id collides only if two reports share a millisecond and 16 random bits; retrying is enough."""


async def report_threat(
    *,
    writer: Writer,
    settings: Settings,
    protocol: Protocol,
    engine: ReportingEngine,
    report: ThreatReportIn,
) -> ReportOutcome:
    """Store a reported incident and record its protocol, through the process's writer (``core.writer``:
    committed with others, answered once durable). A retry of the same report returns the original
    result, the same id with a different body is a 409."""
    _check_telemetry_size(report.full_telemetry, settings.max_telemetry_bytes)
    request_hash = replays.request_hash(report)
    record = functools.partial(
        record_report, settings=settings, protocol=protocol, engine=engine, report=report,
        request_hash=request_hash,
    )  # fmt: skip
    for _attempt in range(GENERATED_ID_ATTEMPTS):
        try:
            outcome = await writer.run(record)
        except IntegrityError:
            # A racing duplicate of the report's id (committed first, maybe in the same batch): its
            # unit was rolled back alone. Its replay is read once that batch is durable.
            if report.incident_id is None:
                continue  # a made id collided: make another
            replay = functools.partial(
                replays.find_replay, report_id=report.incident_id, request_hash=request_hash, engine=engine
            )
            replayed = await writer.run(replay)
            if replayed is None:
                raise
            return replayed
        _log_recorded(outcome, settings.report_log_per_s)
        return outcome
    raise ServiceUnavailable("Could not allocate a unique incident id; retry the report")


def record_report(
    session: Session,
    *,
    settings: Settings,
    protocol: Protocol,
    engine: ReportingEngine,
    report: ThreatReportIn,
    request_hash: str,
) -> ReportOutcome:
    """One unit of work for the writer: store a reported incident and record its protocol in the
    writer's transaction (never committed here), or find the earlier report it replays. A duplicate of
    its id raises ``IntegrityError`` (the other domains' writes flush early, so at any flush in here).

    ``engine`` may come from admission's cache of keys (``auth.admission``): the key's row is read again
    here, so a key revoked since is refused and its owner and place are the current ones."""
    current = auth_service.live_engine_key(session=session, key_id=engine.key_id)
    if current is None:
        raise NotAuthenticated()
    engine = current
    _check_source(session, report, engine)
    if report.incident_id is not None and replays.reported_before(session, report.incident_id):
        replayed = replays.find_replay(session, report.incident_id, request_hash, engine)
        if replayed is not None:
            return replayed
    received_at = clock.now()
    incident = _new_incident(report, engine, request_hash, received_at, settings)
    return _record_attempt(session, settings, protocol, report, incident, received_at)


def _record_attempt(
    session: Session,
    settings: Settings,
    protocol: Protocol,
    report: ThreatReportIn,
    incident: Incident,
    received_at: datetime,
) -> ReportOutcome:
    placing.place_unlocated(
        session=session, incident=incident, received_at=received_at, max_age_s=settings.owner_fix_max_age_s
    )
    open_incident = (
        _named_case(session, report.grouped_into, incident)
        if report.grouped_into is not None
        else _open_incident_repeated(session, settings, incident)
    )
    if open_incident is None:
        return _record_new(session, settings, protocol, incident, received_at)
    return _group_repeat(
        session=session, settings=settings, protocol=protocol, current=open_incident, repeat=incident,
        received_at=received_at,
    )  # fmt: skip


def _log_recorded(outcome: ReportOutcome, per_s: int) -> None:
    """One INFO line for a report stored (not for a replay), once it is durable; at most ``per_s`` a
    second, each saying how many were left out before it."""
    if outcome.replayed:
        return
    left_out = _REPORT_LINES.take(per_s)
    if left_out is None:
        return
    stored = outcome.incident
    logger.info(
        "incident %s %s%s (%s)%s",
        stored.incident_id,
        outcome.grouping.value if outcome.grouping else "recorded",
        f" into {stored.grouped_into}" if stored.grouped_into else "",
        stored.action_taken,
        f"; {left_out} more reports stored since the last line" if left_out else "",
        extra={"incident_id": stored.incident_id, "threat_level": stored.threat_level, "left_out": left_out},
    )


def _record_new(
    session: Session, settings: Settings, protocol: Protocol, incident: Incident, received_at: datetime
) -> ReportOutcome:
    """A report that opens its own incident: the incident, its protocol and what it sets off, in the
    caller's transaction."""
    plan = plan_response(protocol, _facts(incident))
    incident.status = IncidentStatus.actions_executed.value
    incident.action_taken = plan.action_taken
    incident.last_reported_at = incident.timestamp
    escalation.start_escalation_clock(settings=settings, incident=incident)
    incident.id = recording.insert_incident(session, incident)
    actions, commands = recording.after_incident_recorded(
        session=session, settings=settings, incident=incident, plan=plan, executed_at=received_at
    )
    return ReportOutcome(incident=incident, actions=actions, commands=commands, replayed=False)


_I = table(Incident).c
_OPEN_REPEATED = (
    sa.select(_I.id)
    .where(
        _I.engine_key_id == sa.bindparam("engine_key_id"),
        _I.source_id == sa.bindparam("source_id"),
        _I.last_reported_at >= sa.bindparam("seen_from", type_=UTCDateTime),
        _I.timestamp <= sa.bindparam("seen_until", type_=UTCDateTime),
        _I.status.in_([status.value for status in lifecycle.OPEN]),
        _I.grouped_into.is_(None),
    )
    .order_by(_I.last_reported_at.desc(), _I.id.desc())
    .limit(1)
    .with_for_update()
)
"""Every located report of a keyed engine asks this (a Core statement built once)."""


def _open_incident_repeated(session: Session, settings: Settings, repeat: Incident) -> Incident | None:
    """The open incident of the same engine and source that ``repeat`` repeats, locked for this
    transaction; None when grouping is off or there is none. A report repeats an incident when it was seen
    within the grouping window of the span the incident was seen in, its first report's time to its latest
    one's (a report from an engine's offline spool can arrive late and be older than the latest)."""
    if settings.grouping_window_s <= 0 or repeat.engine_key_id is None:
        return None
    window = timedelta(seconds=settings.grouping_window_s)
    _lock_source(session, repeat.engine_key_id, repeat.source_id)
    found = session.connection().scalar(
        _OPEN_REPEATED,
        {"engine_key_id": repeat.engine_key_id, "source_id": repeat.source_id,
         "seen_from": repeat.timestamp - window, "seen_until": repeat.timestamp + window},
    )  # fmt: skip
    return session.get(Incident, found) if found is not None else None  # locked above


def _named_case(session: Session, case_id: str, repeat: Incident) -> Incident:
    """The open incident an engine named as the one ``repeat`` repeats (``grouped_into``), locked for this
    transaction: it must be one this key reported, and open; a grouped report stands for its case."""
    found = session.scalar(sa.select(Incident).where(Incident.incident_id == case_id).with_for_update())
    if found is None or found.engine_key_id != repeat.engine_key_id:
        raise InvalidInput("is not an incident reported with this engine key", loc=("body", "grouped_into"))
    if found.grouped_into is not None:
        return _named_case(session, found.grouped_into, repeat)
    if not lifecycle.is_open(found.status):
        raise InvalidInput(f"incident {case_id} is {found.status}, not open", loc=("body", "grouped_into"))
    return found


def _check_source(session: Session, report: ThreatReportIn, engine: ReportingEngine) -> None:
    """A key reports its own sources: a ``source_id`` that is another engine key's name is refused (one
    query, only for a report naming a source other than its key)."""
    if report.source_id is None or report.source_id == engine.name:
        return
    if auth_service.is_engine_key_name(session=session, name=report.source_id):
        raise InvalidInput("is the name of another engine key", loc=("body", "source_id"))


def _lock_source(session: Session, engine_key_id: int, source_id: str | None) -> None:
    """Two first reports of one source racing must not both open an incident. SQLite already runs one
    writer at a time (``BEGIN IMMEDIATE``); PostgreSQL takes a transaction-scoped advisory lock on the
    source, so the second waits and then finds the first's incident."""
    if session.get_bind().dialect.name != "postgresql":
        return
    digest = hashlib.sha256(f"incident-source:{engine_key_id}:{source_id}".encode()).digest()
    session.execute(
        sa.text("SELECT pg_advisory_xact_lock(:key)"),
        {"key": int.from_bytes(digest[:8], "big", signed=True)},
    )


def _group_repeat(
    *,
    session: Session,
    settings: Settings,
    protocol: Protocol,
    current: Incident,
    repeat: Incident,
    received_at: datetime,
) -> ReportOutcome:
    """Store ``repeat`` as its own incident grouped into the open incident ``current``, and attach to or
    escalate ``current``, in the caller's transaction."""
    previous_level = current.threat_level
    taken = frozenset(
        session.scalars(
            sa.select(IncidentAction.action_type).where(
                IncidentAction.incident_id == current.incident_id, IncidentAction.status == ACTION_EXECUTED
            )
        )
    )
    regrouped = grouping.regroup(protocol, _facts(current), _facts(repeat), taken)
    own = plan_response(protocol, _facts(repeat))
    repeat.status = IncidentStatus.grouped.value
    repeat.grouped_into = current.incident_id
    repeat.action_taken = own.action_taken
    repeat.last_reported_at = repeat.timestamp
    repeat.id = recording.insert_incident(session, repeat)
    current.duplicate_count += 1  # the row is locked for this transaction: no update is lost
    if current.latitude is not None and current.longitude is not None:
        # nearby-risks lists the case once with how many reports it has
        alerts_service.count_incident_report(session=session, incident_id=current.incident_id)
    _apply_facts(current, regrouped.facts, repeat.timestamp, received_at)
    ran: dict[str, str] = {}
    if regrouped.grouping is ReportGrouping.attached:
        timeline.add_event(session, current.incident_id, "report_attached", report_id=repeat.incident_id,
                           threat_level=repeat.threat_level, threat_score=repeat.threat_score)  # fmt: skip
    else:
        current.action_taken = protocol.levels[regrouped.facts.threat_level].action_taken
        case_steps = recording.after_incident_escalated(
            session=session, settings=settings, incident=current, previous_level=previous_level,
            report_id=repeat.incident_id, plan=regrouped.plan, executed_at=received_at,
        )  # fmt: skip
        ran = {step.action_type: step.result or "recorded" for step in case_steps}
    record = grouping.repeat_record(
        own=own, case_id=current.incident_id, case_level=ThreatLevel(previous_level), taken=taken, ran=ran
    )
    return ReportOutcome(
        incident=repeat,
        actions=recording.record_repeat_steps(session, repeat.incident_id, record, received_at),
        # A repeating device is told everything its open incident asks of it, not only what is new.
        commands=devices_service.for_incident(session=session, incident_id=current.incident_id),
        replayed=False,
        grouping=regrouped.grouping,
    )


def _apply_facts(incident: Incident, facts: IncidentFacts, seen_at: datetime, now: datetime) -> None:
    incident.threat_level = facts.threat_level.value
    incident.threat_score = facts.threat_score
    incident.people_count = facts.people_count
    incident.weapon_detected = facts.weapon_detected
    incident.weapon_types = list(facts.weapon_types)
    incident.behavior_summary = facts.behavior_summary
    incident.is_critical = facts.is_critical
    incident.last_reported_at = max(incident.last_reported_at or seen_at, seen_at)
    incident.updated_at = now


def _check_telemetry_size(telemetry: dict[str, Any], max_bytes: int) -> None:
    """The telemetry's size is measured as compact UTF-8 JSON, the form it is stored in."""
    size = len(jsoncodec.dumps(telemetry))
    if size > max_bytes:
        raise InvalidInput(
            f"is {size} bytes as JSON; at most {max_bytes} bytes are accepted", loc=("body", "full_telemetry")
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
    naive_in = event_time.naive_zone(
        latitude=engine.latitude, longitude=engine.longitude, key_timezone=engine.timezone,
        default=settings.tz,
    )  # fmt: skip
    when = event_time.resolve(
        report.timestamp, naive_in=naive_in, received_at=received_at,
        tolerance_s=settings.clock_skew_tolerance_s,
    )  # fmt: skip
    return Incident(
        incident_id=report.incident_id or new_incident_id(received_at),
        timestamp=when.effective,
        reported_timestamp=when.reported,
        received_at=received_at,
        clock_skew_s=when.clock_skew_s,
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
        escalation_round=0,
        duplicate_count=0,
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
