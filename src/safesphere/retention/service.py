"""Data retention: what SafeSphere no longer needs is deleted after its retention period.

The SafeSphere Backend API document asks for "automatic data deletion after retention period". Kept for
``SAFESPHERE_RETENTION_FIX_DAYS`` (90): tourists' location fixes, by the fix's time, except each
tourist's latest (their status points at it). Kept for ``SAFESPHERE_RETENTION_CLOSED_DAYS`` (365) after
they closed: resolved or false-alarm incidents with everything recorded about them (actions, messages,
timeline, reports, device commands, share links and evidence, files included), resolved alerts, and
deliveries that were sent, failed or cancelled. Anything still open is kept however old it is, and so is
an incident under legal hold (``evidence/legal_hold.py``) with its evidence. The audit log is never
purged: it is append-only (``audit/service.py``).

Both periods must be 0 (keep forever) or longer than the 30 days a safety score looks back, so scoring
never loses its history. Deletion runs in short transactions of at most ``BATCH`` rows, so a large purge
never holds SQLite's write lock for long; ``safesphere purge`` runs it by hand, and the server runs it every
``SAFESPHERE_RETENTION_INTERVAL_S`` (one process per period).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from fastapi import FastAPI

from safesphere.alerts.models import Alert, AlertStatus
from safesphere.core import clock
from safesphere.core.config import Settings
from safesphere.core.db import Database, table
from safesphere.core.periodic import claim_period
from safesphere.evidence import legal_hold, storage
from safesphere.evidence.models import Evidence
from safesphere.incidents.models import Incident, IncidentStatus
from safesphere.notify.models import Delivery, DeliveryStatus
from safesphere.tracking.models import LocationFix, TouristStatus

log = logging.getLogger(__name__)

BATCH = 2000
"""Rows per delete transaction: short enough that device writes queue behind it for milliseconds."""
RETENTION_TASK = "retention"

CLOSED_INCIDENT = (IncidentStatus.resolved.value, IncidentStatus.false_alarm.value)
FINISHED_DELIVERY = (DeliveryStatus.sent.value, DeliveryStatus.failed.value, DeliveryStatus.cancelled.value)

_fixes, _statuses = table(LocationFix), table(TouristStatus)
_incidents, _evidence = table(Incident), table(Evidence)
_alerts, _deliveries = table(Alert), table(Delivery)


@dataclass
class Purged:
    """How many of each were deleted."""

    fixes: int = 0
    incidents: int = 0
    evidence_files: int = 0
    alerts: int = 0
    deliveries: int = 0
    missing_files: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.fixes + self.incidents + self.alerts + self.deliveries


def purge(*, database: Database, settings: Settings, batch: int = BATCH) -> Purged:
    """Delete everything past its retention period as of now, ``batch`` rows per transaction."""
    now = clock.now()
    purged = Purged()
    if settings.retention_fix_days > 0:
        before = now - timedelta(days=settings.retention_fix_days)
        purged.fixes = _purge_fixes(database, before=before, batch=batch)
    if settings.retention_closed_days > 0:
        before = now - timedelta(days=settings.retention_closed_days)
        _purge_incidents(database, settings.evidence_dir, before=before, batch=batch, purged=purged)
        alerts, deliveries = _old_resolved_alerts(before), _old_finished_deliveries(before)
        purged.alerts = _delete_in_batches(database, _alerts, *alerts, batch=batch)
        purged.deliveries = _delete_in_batches(database, _deliveries, *deliveries, batch=batch)
    log.info(
        "retention purge: %d fixes, %d incidents (%d evidence files), %d alerts, %d deliveries",
        purged.fixes,
        purged.incidents,
        purged.evidence_files,
        purged.alerts,
        purged.deliveries,
    )
    return purged


def _purge_fixes(database: Database, *, before: datetime, batch: int) -> int:
    latest = sa.select(_statuses.c.last_fix_id)
    old = (_fixes.c.timestamp < before, _fixes.c.id.not_in(latest))
    return _delete_in_batches(database, _fixes, *old, batch=batch)


def _old_resolved_alerts(before: datetime) -> tuple[sa.ColumnElement[bool], ...]:
    a = _alerts.c
    return a.status == AlertStatus.resolved.value, a.resolved_at < before


def _old_finished_deliveries(before: datetime) -> tuple[sa.ColumnElement[bool], ...]:
    d = _deliveries.c
    return d.status.in_(FINISHED_DELIVERY), sa.func.coalesce(d.sent_at, d.failed_at, d.created_at) < before


def _delete_in_batches(
    database: Database, target: sa.Table, *where: sa.ColumnElement[bool], batch: int
) -> int:
    """Delete the rows of ``target`` matching ``where``, ``batch`` per transaction, in ``id`` order (each
    batch starts after the last, so the index is not read again from its start)."""
    deleted, after = 0, None
    while True:
        query = sa.select(target.c.id).where(*where).order_by(target.c.id).limit(batch)
        with database.session() as session:
            ids = list(session.scalars(query if after is None else query.where(target.c.id > after)))
            if not ids:
                return deleted
            session.execute(sa.delete(target).where(target.c.id.in_(ids)))
            session.commit()
        deleted, after = deleted + len(ids), ids[-1]


def _purge_incidents(
    database: Database, evidence_dir: Path, *, before: datetime, batch: int, purged: Purged
) -> None:
    """Closed incidents and what hangs off them (the foreign keys cascade); evidence files once the rows
    are gone, so a failed commit leaves no row without its file."""
    i = _incidents.c
    old = sa.select(i.incident_id).where(
        i.status.in_(CLOSED_INCIDENT),
        i.resolved_at < before,
        i.incident_id.not_in(legal_hold.held_incidents()),
    )
    while True:
        with database.session() as session:
            # Deleted rows drop out of ``old``, so each batch reads the next ones.
            ids = list(session.scalars(old.order_by(i.incident_id).limit(batch)))
            if not ids:
                return
            evidence = sa.select(_evidence.c.stored_path, _evidence.c.store).where(
                _evidence.c.incident_id.in_(ids)
            )
            stored = list(session.execute(evidence))
            session.execute(sa.delete(_incidents).where(i.incident_id.in_(ids)))
            session.commit()
        purged.incidents += len(ids)
        # Bytes kept in the database went with their rows (the foreign keys cascade); files follow them.
        purged.evidence_files += sum(1 for _, store in stored if store == "database")
        files = [stored_path for stored_path, store in stored if store != "database"]
        for stored_path in files:
            path = evidence_dir / stored_path
            if path.exists():
                storage.discard(path)
                purged.evidence_files += 1
            else:
                purged.missing_files.append(stored_path)
            with contextlib.suppress(OSError):  # the incident's folder, once empty
                path.parent.rmdir()


async def purge_periodically(app: FastAPI) -> None:
    """The server's retention loop: one process purges each ``SAFESPHERE_RETENTION_INTERVAL_S``."""
    settings: Settings = app.state.settings
    while True:
        try:
            if await asyncio.to_thread(
                claim_period, app.state.db, RETENTION_TASK, settings.retention_interval_s
            ):
                await asyncio.to_thread(purge, database=app.state.db, settings=settings)
        except Exception:
            log.exception("retention purge failed; will retry next period")
        await asyncio.sleep(settings.retention_interval_s)
