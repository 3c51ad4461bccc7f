"""The rows a real SafeSphere report or location update writes, as plain dicts, for the group-commit
reference (``bench/group_commit.py``). Pure: ids come from the caller, time from the caller.

Counted on 2026-12-06 against ``safesphere serve`` with the benchmark's own setup (an engine key without
owner or place, no channels configured; bodies from ``bench/ingestion.py`` and ``bench/city.py``): the
row count of every table of the database before a request, after its answer and two seconds later.

- Report that opens an incident (``POST /threats/report``), per level: LOW 4 rows (incident, ``reported``
  timeline event, 1 action, incident-type alert); MEDIUM 7 (+1 action, 1 incident alert, 1 device
  command); HIGH 13 + 1 (4 actions, 3 incident alerts, 1 delivery to the police through the log
  channel, 2 device commands; then the delivery worker's attempt row, the delivery and its incident
  alert marked sent and the incident's ``response_time_ms``); CRITICAL without weapon 17 + 1 (6 actions,
  4 incident alerts, 1 delivery, 3 device commands; the same follow-up). The reference writes each
  delivery already sent with its attempt row, in the request's own transaction: the rows the real
  server holds once the delivery worker is done, in one insert each instead of an insert and updates.
- Location update (``POST /location/update``): 1 ``location_fixes`` row with its score and six factors,
  and the tourist's ``tourist_status`` row inserted or updated. The reference stores six stand-in
  factors of the real ones' shape: it measures writing the rows, not computing the score.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from safesphere.devices.commands import commands_for_steps
from safesphere.geo import grid_cell
from safesphere.incidents.protocol import IncidentFacts, ThreatLevel, plan_response
from safesphere.incidents.protocol_table import DEFAULT_PROTOCOL
from safesphere.incidents.schemas import ThreatReportIn
from safesphere.tracking.schemas import LocationIn

Rows = dict[str, list[dict[str, Any]]]
"""Statement -> its rows (named parameters), in the order they must run (foreign keys)."""


def _insert(table: str, columns: str) -> str:
    names = columns.split()
    return f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join(':' + n for n in names)})"  # noqa: S608 - names from this module


INSERT_INCIDENT = _insert(
    "incidents",
    "incident_id timestamp threat_level threat_score people_count weapon_detected weapon_types "
    "behavior_summary is_critical full_telemetry latitude longitude location_accuracy_m location_source "
    "source_id engine_key_id request_hash status action_taken response_time_ms created_at updated_at "
    "escalation_round next_escalation_at duplicate_count last_reported_at reported_timestamp received_at",
)
INSERT_EVENT = _insert("incident_events", "incident_id at kind details")
INSERT_ACTION = _insert("incident_actions", "incident_id action_type description executed_at status result")
INSERT_ALERT = _insert(
    "alerts",
    "type severity title description latitude longitude occurred_at status incident_id created_at cell "
    "updated_at report_count",
)
INSERT_INCIDENT_ALERT = _insert(
    "incident_alerts", "id incident_id action_type alert_type recipient message sent_at status created_at"
)
INSERT_DELIVERY = _insert(
    "deliveries",
    "id idempotency_key channel kind audience recipient subject payload source_kind source_id incident_id "
    "status attempts next_attempt_at created_at sent_at",
)
INSERT_ATTEMPT = _insert("delivery_attempts", "delivery_id number started_at finished_at latency_ms outcome")
INSERT_COMMAND = _insert("device_commands", "engine_key_id incident_id type params status created_at")
INSERT_FIX = _insert(
    "location_fixes",
    "id tourist_id latitude longitude altitude speed accuracy timestamp safety_score tourist_safety_score "
    "risk_level factors safety_score_updated_at created_at cell",
)
UPSERT_STATUS = (
    _insert(
        "tourist_status",
        "tourist_id last_fix_id latitude longitude last_seen location_safety_score tourist_safety_score "
        "risk_level updated_at",
    )
    + " ON CONFLICT (tourist_id) DO UPDATE SET last_fix_id = excluded.last_fix_id, latitude = "
    "excluded.latitude, longitude = excluded.longitude, last_seen = excluded.last_seen, "
    "location_safety_score = excluded.location_safety_score, tourist_safety_score = "
    "excluded.tourist_safety_score, risk_level = excluded.risk_level, updated_at = excluded.updated_at"
)
ESCALATION_DELAY_S = {ThreatLevel.HIGH: 60, ThreatLevel.CRITICAL: 30}
"""The first escalation check the real server schedules for these levels."""
POLICE = "police_dispatch"
STAND_IN_FACTORS = json.dumps(
    [
        {"name": name, "score": 90.0, "weight": weight, "contribution": 90.0 * weight, "details": details}
        for name, weight, details in (
            ("nearby_alerts", 0.3, "No alerts within 2km in last 6 hours"),
            ("zone_risk", 0.25, "No restricted or risky zone within 1km"),
            ("time_of_day", 0.15, "Daytime (08:41 local) - safer period"),
            ("crowd_density", 0.1, "1 tourist within 1km"),
            ("speed_anomaly", 0.1, "Normal movement speed"),
            ("historical_risk", 0.1, "0 incidents in last 30 days within 1km"),
        )
    ]
)


def stamp(moment: datetime) -> str:
    """A ``UTCDateTime`` column's stored text."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


@dataclass
class Ids:
    """The next id of the tables whose ids other rows quote: one writer owns the file, so it hands
    them out."""

    incident_alert: int
    delivery: int
    fix: int

    def take(self, name: str, count: int = 1) -> int:
        first: int = getattr(self, name)
        setattr(self, name, first + count)
        return first


def threat_rows(report: ThreatReportIn, *, engine_key_id: int, ids: Ids, now: datetime) -> Rows:
    """The rows of a report that opens its own incident, as the real server has them once delivered."""
    incident_id = report.incident_id or f"INC_REF_{uuid.uuid4().hex[:12]}"
    level = ThreatLevel(report.threat_level)
    facts = IncidentFacts(
        incident_id=incident_id, threat_level=level, threat_score=report.threat_score,
        people_count=report.people_count, weapon_detected=report.weapon_detected,
        weapon_types=tuple(report.weapon_types), behavior_summary=report.behavior_summary,
        is_critical=bool(report.is_critical), latitude=report.latitude, longitude=report.longitude,
        source_id=report.source_id, owner_id=None,
    )  # fmt: skip
    plan = plan_response(DEFAULT_PROTOCOL, facts)
    at, telemetry = stamp(now), json.dumps(report.full_telemetry)
    moment = report.timestamp or now
    seen = stamp(moment if moment.tzinfo else moment.replace(tzinfo=UTC))
    delay = ESCALATION_DELAY_S.get(level)
    rows: Rows = {
        INSERT_INCIDENT: [
            {"incident_id": incident_id, "timestamp": seen, "threat_level": level.value,
             "threat_score": report.threat_score, "people_count": report.people_count,
             "weapon_detected": report.weapon_detected, "weapon_types": json.dumps(report.weapon_types),
             "behavior_summary": report.behavior_summary, "is_critical": bool(report.is_critical),
             "full_telemetry": telemetry, "latitude": report.latitude, "longitude": report.longitude,
             "location_accuracy_m": report.location_accuracy_m, "location_source": "report",
             "source_id": report.source_id, "engine_key_id": engine_key_id,
             "request_hash": hashlib.sha256(telemetry.encode()).hexdigest(), "status": "actions_executed",
             "action_taken": plan.action_taken, "response_time_ms": 1 if delay else None, "created_at": at,
             "updated_at": at, "escalation_round": 0, "duplicate_count": 0, "last_reported_at": seen,
             "reported_timestamp": seen, "received_at": at,
             "next_escalation_at": stamp(now + timedelta(seconds=delay)) if delay else None}
        ],
        INSERT_EVENT: [
            {"incident_id": incident_id, "at": at, "kind": "reported", "details": json.dumps(
                {"threat_level": level.value, "action_taken": plan.action_taken,
                 "source_id": report.source_id})}
        ],
        INSERT_ACTION: [
            {"incident_id": incident_id, "action_type": action.action_type, "description": action.description,
             "executed_at": at, "status": "executed", "result": "recorded"}
            for action in plan.actions
        ],
        INSERT_ALERT: [
            {"type": "incident", "severity": level.value.lower(), "title": f"Threat incident {level.value}",
             "description": report.behavior_summary, "latitude": report.latitude,
             "longitude": report.longitude,
             "occurred_at": seen, "status": "open", "incident_id": incident_id, "created_at": at,
             "cell": grid_cell(report.latitude or 0.0, report.longitude or 0.0), "updated_at": at,
             "report_count": 1}
        ],
    }  # fmt: skip
    rows.update(_deliveries(report, plan.alerts, incident_id=incident_id, ids=ids, at=at, seen=seen))
    rows[INSERT_COMMAND] = [
        {"engine_key_id": engine_key_id, "incident_id": incident_id, "type": command.type,
         "params": json.dumps(command.params), "status": "pending", "created_at": at}
        for command in commands_for_steps([action.action_type for action in plan.actions])
    ]  # fmt: skip
    return rows


def _deliveries(
    report: ThreatReportIn, alerts: Any, *, incident_id: str, ids: Ids, at: str, seen: str
) -> Rows:
    """The incident alerts, and for the police's a delivery through the log channel, sent, with its
    attempt."""
    incident_alerts, deliveries, attempts = [], [], []
    for alert in alerts:
        alert_id = ids.take("incident_alert")
        police = alert.recipient == POLICE
        incident_alerts.append(
            {"id": alert_id, "incident_id": incident_id, "action_type": alert.action_type,
             "alert_type": alert.alert_type, "recipient": alert.recipient, "message": alert.message,
             "sent_at": at if police else None, "status": "sent" if police else "no_recipients",
             "created_at": at}
        )  # fmt: skip
        if not police:
            continue
        delivery_id, key = ids.take("delivery"), f"incident_alert:{alert_id}:log:{POLICE}"
        payload = {"event": "incident_alert", "incident_id": incident_id, "alert_type": alert.alert_type,
                   "threat_level": report.threat_level, "message": alert.message,
                   "location": {"lat": report.latitude, "lon": report.longitude}, "timestamp": seen,
                   "people_count": report.people_count, "weapon_detected": report.weapon_detected,
                   "weapon_types": report.weapon_types, "idempotency_key": key}  # fmt: skip
        deliveries.append(
            {"id": delivery_id, "idempotency_key": key, "channel": "log", "kind": "log", "audience": "police",
             "recipient": POLICE, "subject": f"SafeSphere {report.threat_level} threat {incident_id}: "
             f"{alert.alert_type}", "payload": json.dumps(payload), "source_kind": "incident_alert",
             "source_id": str(alert_id), "incident_id": incident_id, "status": "sent", "attempts": 1,
             "next_attempt_at": at, "created_at": at, "sent_at": at}
        )  # fmt: skip
        attempts.append(
            {"delivery_id": delivery_id, "number": 1, "started_at": at, "finished_at": at, "latency_ms": 0.2,
             "outcome": "sent"}
        )  # fmt: skip
    return {INSERT_INCIDENT_ALERT: incident_alerts, INSERT_DELIVERY: deliveries, INSERT_ATTEMPT: attempts}


def location_rows(fix: LocationIn, *, tourist_id: int, ids: Ids, now: datetime) -> tuple[Rows, int]:
    """The fix with its (stand-in) score and factors, and the tourist's status row; and the fix's id."""
    fix_id, at, seen = ids.take("fix"), stamp(now), stamp(fix.timestamp)
    score = 90.0
    rows: Rows = {
        INSERT_FIX: [
            {"id": fix_id, "tourist_id": tourist_id, "latitude": fix.lat, "longitude": fix.lon,
             "altitude": fix.altitude, "speed": fix.speed, "accuracy": fix.accuracy, "timestamp": seen,
             "safety_score": score, "tourist_safety_score": score, "risk_level": "low",
             "factors": STAND_IN_FACTORS, "safety_score_updated_at": at, "created_at": at,
             "cell": grid_cell(fix.lat, fix.lon)}
        ],
        UPSERT_STATUS: [
            {"tourist_id": tourist_id, "last_fix_id": fix_id, "latitude": fix.lat, "longitude": fix.lon,
             "last_seen": seen, "location_safety_score": score, "tourist_safety_score": score,
             "risk_level": "low", "updated_at": at}
        ],
    }  # fmt: skip
    return rows, fix_id
