"""One process runs each period of a periodic task, however many share the database.

Each server process (``safesphere serve --workers N``, or several hosts on one PostgreSQL) runs the same
background loops. A task that should run once per period, not once per process (the background
rescoring, retention), first claims the period with a conditional UPDATE of its row in ``periodic_runs``:
the first process whose loop comes round wins, the others find the period taken (or being taken: on
PostgreSQL the row is locked ``FOR UPDATE SKIP LOCKED``, so none waits) and sleep again. No lock is held
between periods, so when the process that ran the last period dies, the next one to wake runs the next.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from safesphere.core import clock
from safesphere.core.db import Base, Database, UTCDateTime, table

EARLY_SHARE = 0.1
"""A period may be claimed this share of the interval early: loops that sleep ``interval`` after a run
that took a while come round a little late, and must not skip every other period."""


class PeriodicRun(Base):
    __tablename__ = "periodic_runs"

    name: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)


_R = table(PeriodicRun).c
_Q = table(PeriodicRun).alias("due").c
_DUE = (
    sa.select(_Q.name)
    .where(_Q.name == sa.bindparam("task"), _Q.started_at <= sa.bindparam("due", type_=UTCDateTime))
    # PostgreSQL: a period another process is claiming this instant is its, not waited for. SQLite
    # ignores it (its writers take turns on the database's write lock).
    .with_for_update(skip_locked=True)
)
_CLAIM = (
    sa.update(table(PeriodicRun))
    .where(_R.name.in_(_DUE), _R.started_at <= sa.bindparam("due", type_=UTCDateTime))
    .values(started_at=sa.bindparam("now", type_=UTCDateTime))
)


def claim_period(database: Database, task: str, interval_s: float) -> bool:
    """Whether this process runs ``task`` now: True when its last run started at least ``interval_s``
    (less ``EARLY_SHARE`` of it) ago, or it never ran; the claim is stamped in the same statement."""
    now = clock.now()
    due = now - timedelta(seconds=interval_s * (1 - EARLY_SHARE))
    with database.session() as session:
        claimed = session.connection().execute(_CLAIM, {"task": task, "due": due, "now": now}).rowcount
        if claimed == 0 and session.get(PeriodicRun, task) is None:
            session.add(PeriodicRun(name=task, started_at=now))
            try:
                session.commit()
            except IntegrityError:  # another process stamped the first run just now
                session.rollback()
                return False
            return True
        session.commit()
    return claimed == 1
