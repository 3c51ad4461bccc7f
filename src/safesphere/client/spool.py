"""The engine's durable outbox: a local SQLite file (WAL, synchronous FULL) of requests not yet delivered.

An incident lands here when the server could not be reached or failed; it leaves only when the server
answered 2xx (delivered) or 4xx (moved to ``rejected``, never silently dropped). Screenshots wait here
too, and are sent only once their incident has left the spool, so the server never sees an upload for
an incident it does not have yet.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from safesphere.client.results import Rejection

BUSY_TIMEOUT_S = 30.0
"""Another reporter process on the same file holds the write lock only for a single-row write."""

SCHEMA = """
CREATE TABLE IF NOT EXISTS outgoing (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL CHECK (kind IN ('incident', 'screenshot')),
    incident_id TEXT NOT NULL,
    body BLOB NOT NULL,
    filename TEXT,
    attempts INTEGER NOT NULL DEFAULT 1,
    due_at REAL NOT NULL,
    last_error TEXT,
    created_at REAL NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS ux_outgoing_incident ON outgoing (incident_id) WHERE kind = 'incident';
CREATE INDEX IF NOT EXISTS ix_outgoing_due ON outgoing (due_at);
CREATE TABLE IF NOT EXISTS rejected (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    incident_id TEXT NOT NULL,
    body BLOB NOT NULL,
    filename TEXT,
    status_code INTEGER NOT NULL,
    detail TEXT NOT NULL,
    rejected_at REAL NOT NULL
);
"""

# A screenshot is sendable only once its incident has left the spool (else the server answers 404).
DUE_SQL = """
SELECT id, kind, incident_id, body, filename, attempts FROM outgoing AS o
WHERE (:now IS NULL OR due_at <= :now)
  AND NOT (o.kind = 'screenshot' AND EXISTS (
      SELECT 1 FROM outgoing AS i WHERE i.kind = 'incident' AND i.incident_id = o.incident_id))
ORDER BY o.kind = 'screenshot', o.id
LIMIT :limit
"""
NEXT_DUE_SQL = """
SELECT MIN(due_at) FROM outgoing AS o
WHERE NOT (o.kind = 'screenshot' AND EXISTS (
    SELECT 1 FROM outgoing AS i WHERE i.kind = 'incident' AND i.incident_id = o.incident_id))
"""

INCIDENT = "incident"
SCREENSHOT = "screenshot"


@dataclass(frozen=True)
class SpooledRequest:
    id: int
    kind: str
    incident_id: str
    body: bytes
    filename: str | None
    attempts: int


class Spool:
    """Thread-safe; one connection guarded by a lock (every operation is a single short statement)."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._connection = sqlite3.connect(
            self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
        )
        self._connection.execute("PRAGMA journal_mode=WAL")
        self._connection.execute("PRAGMA synchronous=FULL")
        self._connection.executescript(SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._connection.close()

    def add_incident(self, incident_id: str, body: bytes, *, due_at: float, error: str) -> bool:
        """Keep an incident for retry; False if that incident is already waiting (kept as first spooled)."""
        with self._lock:
            cursor = self._connection.execute(
                "INSERT OR IGNORE INTO outgoing (kind, incident_id, body, due_at, last_error, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (INCIDENT, incident_id, body, due_at, error, time.time()),
            )
            return cursor.rowcount == 1

    def add_screenshot(
        self, incident_id: str, content: bytes, filename: str, *, due_at: float, error: str
    ) -> None:
        with self._lock:
            self._connection.execute(
                "INSERT INTO outgoing (kind, incident_id, body, filename, due_at, last_error, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (SCREENSHOT, incident_id, content, filename, due_at, error, time.time()),
            )

    def has_incident(self, incident_id: str) -> bool:
        with self._lock:
            row = self._connection.execute(
                "SELECT 1 FROM outgoing WHERE kind = ? AND incident_id = ?", (INCIDENT, incident_id)
            ).fetchone()
        return row is not None

    def due(self, *, now: float | None, limit: int) -> list[SpooledRequest]:
        """Requests to send now (all of them when ``now`` is None), incidents first, oldest first.

        A screenshot whose incident is still spooled is held back until the incident is delivered.
        """
        with self._lock:
            rows = self._connection.execute(DUE_SQL, {"now": now, "limit": limit}).fetchall()
        return [SpooledRequest(*row) for row in rows]

    def next_due_at(self) -> float | None:
        """When the earliest sendable request falls due (held-back screenshots wait for their incident)."""
        with self._lock:
            row = self._connection.execute(NEXT_DUE_SQL).fetchone()
        return None if row[0] is None else float(row[0])

    def expedite(self, *, now: float) -> None:
        """The server answers again: everything waiting out a backoff is due now."""
        with self._lock:
            self._connection.execute("UPDATE outgoing SET due_at = ? WHERE due_at > ?", (now, now))

    def remove(self, request_id: int) -> None:
        """The server stored it."""
        with self._lock:
            self._connection.execute("DELETE FROM outgoing WHERE id = ?", (request_id,))

    def postpone(self, request_id: int, *, due_at: float, error: str) -> None:
        with self._lock:
            self._connection.execute(
                "UPDATE outgoing SET attempts = attempts + 1, due_at = ?, last_error = ? WHERE id = ?",
                (due_at, error, request_id),
            )

    def reject(self, request: SpooledRequest, *, status_code: int, detail: str) -> None:
        """The server refused it: move it to ``rejected`` in one transaction."""
        with self._lock:
            self._connection.execute("BEGIN IMMEDIATE")
            try:
                self._connection.execute(
                    "INSERT INTO rejected (kind, incident_id, body, filename, status_code, detail,"
                    " rejected_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        request.kind,
                        request.incident_id,
                        request.body,
                        request.filename,
                        status_code,
                        detail,
                        time.time(),
                    ),
                )
                self._connection.execute("DELETE FROM outgoing WHERE id = ?", (request.id,))
            except BaseException:
                self._connection.execute("ROLLBACK")
                raise
            self._connection.execute("COMMIT")

    def pending(self) -> int:
        with self._lock:
            return int(self._connection.execute("SELECT COUNT(*) FROM outgoing").fetchone()[0])

    def rejections(self) -> list[Rejection]:
        with self._lock:
            rows = self._connection.execute(
                "SELECT kind, incident_id, status_code, detail, rejected_at FROM rejected ORDER BY id"
            ).fetchall()
        return [Rejection(*row) for row in rows]
