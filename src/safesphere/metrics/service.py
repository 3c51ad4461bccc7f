"""What an operator watches SafeSphere by: the state that says whether people are being told, read from the
database at each scrape, so every process and host reports the same numbers.

The counts are indexed ranges over a status, never a scan of the history: pages waiting to go out and how
long the oldest has waited, failed pages, incidents nobody has acknowledged and the oldest of them, open
incidents and alerts. Tourists seen lately are counted over the status table (one row per tourist), and
each periodic task's last run is read from its own small table.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from safesphere.alerts.models import Alert, AlertStatus
from safesphere.core import clock
from safesphere.core.db import table
from safesphere.core.periodic import PeriodicRun
from safesphere.incidents import lifecycle
from safesphere.incidents.models import Incident, IncidentStatus
from safesphere.notify.models import Delivery, DeliveryStatus
from safesphere.tracking.models import TouristStatus

ACTIVE_TOURIST_WINDOW = timedelta(minutes=15)
"""A tourist whose last fix is this recent counts as active (phones send a fix every few minutes)."""

OPEN_INCIDENT = tuple(
    s.value for s in IncidentStatus if s not in (IncidentStatus.resolved, IncidentStatus.false_alarm)
)
UNACKNOWLEDGED = tuple(s.value for s in lifecycle.UNACKNOWLEDGED)
WAITING = (DeliveryStatus.pending.value, DeliveryStatus.sending.value)
NOT_RESOLVED = (AlertStatus.open.value, AlertStatus.acknowledged.value)

_deliveries, _incidents, _alerts = table(Delivery), table(Incident), table(Alert)
_statuses, _runs = table(TouristStatus), table(PeriodicRun)


@dataclass(frozen=True)
class Sample:
    """One value of a metric, with its labels."""

    name: str
    help: str
    value: float
    labels: tuple[tuple[str, str], ...] = ()


def snapshot(*, session: Session) -> list[Sample]:
    """Every metric as of now."""
    now = clock.now()
    return [
        *_delivery_samples(session, now),
        *_incident_samples(session, now),
        *_alert_samples(session),
        Sample(
            "safesphere_tourists_active",
            f"Tourists whose last fix is under {ACTIVE_TOURIST_WINDOW.seconds // 60} minutes old.",
            _count(session, _statuses, _statuses.c.last_seen >= now - ACTIVE_TOURIST_WINDOW),
        ),
        *(
            Sample(
                "safesphere_periodic_last_run_timestamp_seconds",
                "When each periodic task (rescoring, retention) last started, as a Unix time.",
                started_at.timestamp(),
                (("task", name),),
            )
            for name, started_at in session.execute(sa.select(_runs.c.name, _runs.c.started_at))
        ),
    ]


def _delivery_samples(session: Session, now: datetime) -> Iterator[Sample]:
    d = _deliveries.c
    waiting: dict[str, int] = dict(
        session.execute(
            sa.select(d.status, sa.func.count()).where(d.status.in_(WAITING)).group_by(d.status)
        ).all()
    )
    for status in WAITING:
        yield Sample(
            "safesphere_deliveries_waiting",
            "Messages (police pages, contact alerts) not sent yet, by status.",
            waiting.get(status, 0),
            (("status", status),),
        )
    oldest = session.scalar(sa.select(sa.func.min(d.created_at)).where(d.status.in_(WAITING)))
    yield Sample(
        "safesphere_delivery_oldest_waiting_seconds",
        "How long the oldest message not sent yet has waited (0 when none waits).",
        _age(now, oldest),
    )
    yield Sample(
        "safesphere_deliveries_failed",
        "Messages given up on after every retry (kept until the retention period).",
        _count(session, _deliveries, d.status == DeliveryStatus.failed.value),
    )


def _incident_samples(session: Session, now: datetime) -> Iterator[Sample]:
    i = _incidents.c
    for name, help_text, statuses in (
        ("safesphere_incidents_open", "Incidents not resolved yet, by threat level.", OPEN_INCIDENT),
        ("safesphere_incidents_unacknowledged", "Incidents no officer has acknowledged yet.", UNACKNOWLEDGED),
    ):
        by_level = sa.select(i.threat_level, sa.func.count()).where(i.status.in_(statuses))
        counts: dict[str, int] = dict(session.execute(by_level.group_by(i.threat_level)).all())
        for level in ("LOW", "MEDIUM", "HIGH", "CRITICAL"):
            yield Sample(name, help_text, counts.get(level, 0), (("threat_level", level),))
    oldest = session.scalar(sa.select(sa.func.min(i.created_at)).where(i.status.in_(UNACKNOWLEDGED)))
    yield Sample(
        "safesphere_incident_oldest_unacknowledged_seconds",
        "How long the oldest unacknowledged incident has waited (0 when none waits).",
        _age(now, oldest),
    )


def _alert_samples(session: Session) -> Iterator[Sample]:
    a = _alerts.c
    by_kind = sa.select(a.type, a.status, sa.func.count()).where(a.status.in_(NOT_RESOLVED))
    counts = session.execute(by_kind.group_by(a.type, a.status)).all()
    for alert_type, status, count in counts:
        yield Sample(
            "safesphere_alerts_not_resolved",
            "Safety alerts (SOS, anomaly, incident) not resolved yet, by type and status.",
            count,
            (("type", alert_type), ("status", status)),
        )


def _count(session: Session, target: sa.Table, *where: sa.ColumnElement[bool]) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(target).where(*where)) or 0


def _age(now: datetime, since: datetime | None) -> float:
    return max(0.0, (now - since).total_seconds()) if since is not None else 0.0
