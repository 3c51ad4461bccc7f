"""A live feed: every incident and alert change from its start on, each read once.

The feed polls the database, not an in-process bus, so it sees the changes of every server process (and
host) sharing the database (``live.hub`` runs one per process for all its streams, and a stream that
resumes from an earlier moment reads its own until it has caught up). Each poll reads what changed since
its last one, reaching ``overlap`` back: a change is stamped before its transaction commits, so a poll
can miss a change another transaction stamped earlier and committed later; the overlap catches it, and
what was already sent (the same row at the same stamp) is not sent again. A page that fills up is
continued after its last change, in (updated_at, id) order, so many changes at one moment are all read.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy.orm import Session

from safesphere.alerts.schemas import AlertOut
from safesphere.incidents.schemas import IncidentSummary
from safesphere.live import service

PAGE = 500
"""Changes of one kind read per poll; a busier moment is caught up page by page without waiting."""


class Change(NamedTuple):
    """One change read: its kind (the event name), the row's key and stamp, and the event's JSON."""

    kind: str
    key: Hashable
    stamp: datetime
    payload: str


@dataclass
class _Kind:
    """The feed's place in one kind of change (incidents or alerts)."""

    name: str
    read: Callable[[Session, datetime, service.Position | None, int], Sequence[Any]]
    key: Callable[[Any], Hashable]
    payload: Callable[[Any], str]
    page: int
    looked_to: datetime
    """Every change stamped before this, less the overlap, has been read."""
    resume: service.Position | None = None
    """Set while a full page is followed: the next read goes on after this change, with no overlap."""
    sent: dict[Hashable, datetime] = field(default_factory=dict)

    def poll(self, session: Session, *, now: datetime, overlap: timedelta) -> tuple[list[Change], bool]:
        """The changes not read yet, and whether a full page of news says more are waiting."""
        lower = self.looked_to - overlap
        rows = self.read(session, lower, self.resume, self.page)
        changes = []
        for row in rows:
            key, stamp = self.key(row), row.updated_at
            if self.sent.get(key) != stamp:
                self.sent[key] = stamp
                changes.append(Change(self.name, key, stamp, self.payload(row)))
        full = len(rows) == self.page
        if full:
            self.resume = (rows[-1].updated_at, rows[-1].id)
        else:
            self.resume, self.looked_to = None, now
            forget_before = now - overlap
            self.sent = {key: stamp for key, stamp in self.sent.items() if stamp >= forget_before}
        # A full page of repeats (the overlap re-read at a busy moment) is followed at the normal pace.
        return changes, full and bool(changes)

    @property
    def resumes_at(self) -> datetime:
        return self.resume[0] if self.resume is not None else self.looked_to


class Feed:
    """The changes for one connection, from ``since`` on."""

    def __init__(self, *, since: datetime, overlap: timedelta, page: int = PAGE) -> None:
        self.overlap = overlap
        self.kinds = [
            _Kind(
                "incident",
                lambda s, lower, after, limit: service.incidents_changed(
                    session=s, since=lower, after=after, limit=limit
                ),
                lambda incident: incident.incident_id,
                lambda incident: IncidentSummary.model_validate(incident).model_dump_json(),
                page,
                since,
            ),
            _Kind(
                "alert",
                lambda s, lower, after, limit: service.alerts_changed(
                    session=s, since=lower, after=after, limit=limit
                ),
                lambda alert: alert.id,
                lambda alert: AlertOut.from_alert(alert).model_dump_json(),
                page,
                since,
            ),
        ]

    @property
    def cursor(self) -> datetime:
        """Where a reconnecting client resumes (``since``): nothing before it is still to be sent."""
        return min(kind.resumes_at for kind in self.kinds)

    @property
    def resume_id(self) -> str:
        """The cursor as an event id: UTC with a ``Z``, so it goes into a query string as it is."""
        return self.cursor.astimezone(UTC).isoformat().replace("+00:00", "Z")

    def poll(self, session: Session, now: datetime) -> tuple[list[Change], bool]:
        """The changes found (none: an empty list), and whether more are waiting."""
        changes: list[Change] = []
        more = False
        for kind in self.kinds:
            found, full = kind.poll(session, now=now, overlap=self.overlap)
            changes.extend(found)
            more = more or full
        return changes, more
