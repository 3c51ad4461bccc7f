"""The notifications history: every delivery across incidents and alerts, filtered, paged, and the failed
ones first when asked, with the counts by status an officer filters by.

Each read is an indexed range: ``(created_at, id)`` for newest first within a time range, ``(status,
created_at, id)`` for one status (the failed ones). Failed-first paging reads the failed rows, then the
others, each newest first, so no query sorts the whole history.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Session

from safesphere.core import clock
from safesphere.core.errors import InvalidInput
from safesphere.notify.models import Audience, Delivery, DeliveryStatus


class DeliveryOrder(StrEnum):
    newest = "newest"
    failed_first = "failed_first"
    """Failed deliveries (newest first), then every other one (newest first)."""


@dataclass(frozen=True)
class DeliveryFilter:
    """What an officer narrows the history to; every field optional."""

    status: DeliveryStatus | None = None
    channel: str | None = None
    audience: Audience | None = None
    source_kind: str | None = None
    source_id: str | None = None
    incident_id: str | None = None
    since: datetime | None = None
    """Created at or after this moment."""
    until: datetime | None = None
    """Created before this moment."""

    def conditions(self, *, with_status: bool = True) -> list[sa.ColumnElement[bool]]:
        found: list[sa.ColumnElement[bool]] = []
        if with_status and self.status is not None:
            found.append(Delivery.status == self.status.value)
        for column, value in (
            (Delivery.channel, self.channel),
            (Delivery.audience, self.audience.value if self.audience else None),
            (Delivery.source_kind, self.source_kind),
            (Delivery.source_id, self.source_id),
            (Delivery.incident_id, self.incident_id),
        ):
            if value is not None:
                found.append(column == value)
        if self.since is not None:
            found.append(Delivery.created_at >= self.since)
        if self.until is not None:
            found.append(Delivery.created_at < self.until)
        return found


def time_range(
    since: datetime | None, until: datetime | None, zone: tzinfo
) -> tuple[datetime | None, datetime | None]:
    """A client's bounds as aware UTC (naive ones read in ``zone``, as the incident list reads them);
    ``until`` must come after ``since``."""
    since = clock.ensure_utc(since, naive_zone=zone) if since is not None else None
    until = clock.ensure_utc(until, naive_zone=zone) if until is not None else None
    if since is not None and until is not None and since >= until:
        raise InvalidInput("must be after since", loc=("query", "until"))
    return since, until


@dataclass(frozen=True)
class DeliveryPage:
    total: int
    """Deliveries matching every filter."""
    counts: dict[str, int]
    """Deliveries by status matching every filter but the status (the numbers beside a status filter)."""
    deliveries: list[Delivery]


def list_deliveries(
    *,
    session: Session,
    filters: DeliveryFilter,
    order: DeliveryOrder = DeliveryOrder.newest,
    limit: int = 100,
    offset: int = 0,
) -> DeliveryPage:
    """A page of deliveries matching ``filters`` in ``order``, with the total and the counts by status."""
    # Every status named, so the count is a range of the (status, created_at) index per status rather
    # than a scan of the whole index in status order.
    every_status = Delivery.status.in_([status.value for status in DeliveryStatus])
    by_status = sa.select(Delivery.status, sa.func.count()).where(
        every_status, *filters.conditions(with_status=False)
    )
    found = {status: int(n) for status, n in session.execute(by_status.group_by(Delivery.status))}
    counts = {status.value: found.get(status.value, 0) for status in DeliveryStatus}
    total = counts[filters.status.value] if filters.status is not None else sum(counts.values())
    conditions = filters.conditions()
    if order is DeliveryOrder.newest or filters.status is not None:
        rows = _newest(session, conditions, limit, offset)
    else:
        rows = _failed_first(session, conditions, counts[DeliveryStatus.failed.value], limit, offset)
    return DeliveryPage(total=total, counts=counts, deliveries=rows)


def _newest(
    session: Session, conditions: list[sa.ColumnElement[bool]], limit: int, offset: int
) -> list[Delivery]:
    query = sa.select(Delivery).where(*conditions).order_by(Delivery.created_at.desc(), Delivery.id.desc())
    return list(session.scalars(query.limit(limit).offset(offset)))


def _failed_first(
    session: Session, conditions: list[sa.ColumnElement[bool]], failed: int, limit: int, offset: int
) -> list[Delivery]:
    """The failed rows from ``offset``, then as many of the others as the page still holds."""
    is_failed = Delivery.status == DeliveryStatus.failed.value
    rows = _newest(session, [*conditions, is_failed], limit, offset) if offset < failed else []
    if len(rows) < limit:
        rest = _newest(session, [*conditions, ~is_failed], limit - len(rows), max(0, offset - failed))
        rows.extend(rest)
    return rows
