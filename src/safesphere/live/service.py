"""The changes the live feed sends: incidents and alerts changed at or after a moment, in the order they
changed, a page at a time."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session, load_only

from safesphere.alerts.models import Alert
from safesphere.incidents.models import Incident
from safesphere.incidents.schemas import IncidentSummary

Position = tuple[datetime, int]
"""(updated_at, id) of a change: changes are read in this order, and a page resumes after its last."""

_SUMMARY_COLUMNS = [getattr(Incident, name) for name in IncidentSummary.model_fields]


def _changed(
    table: type[Incident] | type[Alert], since: datetime, after: Position | None
) -> sa.ColumnElement[bool]:
    if after is None:
        return table.updated_at >= since
    stamp, row_id = after
    return sa.and_(table.updated_at >= stamp, sa.or_(table.updated_at > stamp, table.id > row_id))


def incidents_changed(
    *, session: Session, since: datetime, after: Position | None, limit: int
) -> list[Incident]:
    """At most ``limit`` incidents changed at or after ``since`` (or after the position ``after``): an
    indexed range read of the list view's columns only (no telemetry)."""
    return list(
        session.scalars(
            sa.select(Incident)
            .options(load_only(*_SUMMARY_COLUMNS, raiseload=True))
            .where(_changed(Incident, since, after))
            .order_by(Incident.updated_at, Incident.id)
            .limit(limit)
        )
    )


def alerts_changed(*, session: Session, since: datetime, after: Position | None, limit: int) -> list[Alert]:
    """At most ``limit`` alerts changed at or after ``since`` (or after the position ``after``)."""
    return list(
        session.scalars(
            sa.select(Alert)
            .where(_changed(Alert, since, after))
            .order_by(Alert.updated_at, Alert.id)
            .limit(limit)
        )
    )
