"""What other instances changed, announced through PostgreSQL (``LISTEN``/``NOTIFY``).

On PostgreSQL, triggers (migration 0034) announce on ``CHANNEL`` the name of each table a committed
transaction changed that other processes hold state about: ``incidents`` and ``alerts`` (the live feed),
``zones`` (the zone index), ``deliveries`` inserted (the delivery worker), ``channels``, ``places`` and
``engine_keys``. A notification is sent at commit and dropped on rollback, so a process that hears one
and then reads sees the change. Each process keeps ONE listening connection (``listen_forever``), shared by
everything in it; while it is down (SQLite, a database restart, ``announcements_listen`` off) nothing is
announced and everything falls back to polling, as it would without this module.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import Callable

import psycopg
import sqlalchemy as sa
from fastapi import FastAPI

from safesphere.core.config import Settings

log = logging.getLogger(__name__)

CHANNEL = "safesphere_changes"
"""The one notification channel; the payload is the changed table's name."""
APPLICATION_NAME = "safesphere-listener"
"""The listener's name in ``pg_stat_activity``, so an operator (or a test) can find it."""
RECONNECT_FIRST_S = 0.2
"""The first wait before reconnecting after the listener lost its connection (doubles each failure)."""
RECONNECT_MAX_S = 5.0
"""The longest wait between reconnection attempts: a restarted database is heard from within this."""

Hearer = Callable[[], None]
"""Called on the event loop when a topic is announced, or when announcements may have been missed."""


class Announcements:
    """One process's record of announcements: a generation per topic (a table name), raised by each
    notification and by every gap in listening, and the callbacks woken by them.

    A cache that remembers the generation it last checked against the database, and finds it unchanged
    while ``listening``, knows nothing it depends on changed since. Generations are read from any
    thread; they are only raised on the event loop."""

    def __init__(self) -> None:
        self.listening = False
        self._generations: defaultdict[str, int] = defaultdict(int)
        self._gaps = 0
        self._hearers: defaultdict[str, list[Hearer]] = defaultdict(list)

    def generation(self, topic: str) -> int:
        """Changes when ``topic`` is announced or listening stops or starts."""
        return self._generations[topic] + self._gaps

    def hear(self, topic: str, hearer: Hearer) -> None:
        self._hearers[topic].append(hearer)

    def forget(self, topic: str, hearer: Hearer) -> None:
        with contextlib.suppress(ValueError):
            self._hearers[topic].remove(hearer)

    def announced(self, topic: str) -> None:
        self._generations[topic] += 1
        for hearer in list(self._hearers[topic]):
            hearer()

    def gap(self, *, listening: bool) -> None:
        """Listening started or stopped: whatever was announced meanwhile is unknown, so every topic is
        as good as announced."""
        self.listening = listening
        self._gaps += 1
        for hearers in list(self._hearers.values()):
            for hearer in list(hearers):
                hearer()


def conninfo(settings: Settings) -> str:
    """The database URL as libpq takes it (SQLAlchemy's driver name removed)."""
    url = sa.make_url(settings.resolved_database_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


async def listen_forever(announcements: Announcements, settings: Settings) -> None:
    """The process's listening connection: connects, ``LISTEN``s, passes every notification on; after
    a lost connection it reconnects (with a growing wait) until the server is back. Checks the connection
    every ``announcements_catch_up_s`` when nothing arrives, so a silently dead one is noticed."""
    wait = RECONNECT_FIRST_S
    while True:
        try:
            async with await psycopg.AsyncConnection.connect(
                conninfo(settings), autocommit=True, application_name=APPLICATION_NAME
            ) as connection:
                await connection.execute(f"LISTEN {CHANNEL}")
                announcements.gap(listening=True)
                log.info("listening for other instances' changes")
                wait = RECONNECT_FIRST_S
                while True:
                    async for notify in connection.notifies(timeout=settings.announcements_catch_up_s):
                        announcements.announced(notify.payload)
                    await connection.execute("SELECT 1")
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # any lost connection: psycopg.Error, OSError
            if announcements.listening:
                log.warning("stopped listening for other instances' changes: %s", exc)
                announcements.gap(listening=False)
            await asyncio.sleep(wait)
            wait = min(RECONNECT_MAX_S, wait * 2)


async def listen(app: FastAPI) -> None:
    """The server's listening task (PostgreSQL with ``announcements_listen``)."""
    await listen_forever(app.state.announcements, app.state.settings)
