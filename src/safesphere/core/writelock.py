"""One SQLite writer at a time across processes, handed over the moment the holder commits.

SQLite runs one writer at a time. A writer that finds the database locked sleeps in SQLite's busy
handler (1, 2, 5, 10 ... 100 ms) and looks again, so with two server processes the lock sits free while
the next writer sleeps: measured, two processes wrote fewer reports per second than one. Each write
connection therefore first takes an exclusive ``flock`` on ``<database>-writer.lock``, from just before
its ``BEGIN IMMEDIATE`` until its ``COMMIT`` or ``ROLLBACK``; a waiting process looks again within a
millisecond, and the operating system frees the lock of a process that died. Within a process writers
already queue for the write engine's single connection (``core.db``).
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import time
from pathlib import Path

FIRST_WAIT_S = 0.000_05
LONGEST_WAIT_S = 0.001
"""A waiting writer looks again after 50 µs, doubling up to 1 ms: a report's transaction is a few ms."""


class WriteLock:
    """An exclusive advisory lock on a file, one per write connection (its own open file)."""

    def __init__(self, path: Path, timeout_s: float) -> None:
        self.path = path
        self.timeout_s = timeout_s
        self._fd: int | None = None
        self.held = False

    def acquire(self) -> None:
        """Waits up to the busy timeout, then fails as SQLite itself would ("database is locked")."""
        if self.held:
            return
        if self._fd is None:
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        deadline = time.monotonic() + self.timeout_s
        wait = FIRST_WAIT_S
        while True:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise sqlite3.OperationalError(
                        "database is locked: another process held the write lock for the whole busy timeout"
                    ) from None
                time.sleep(wait)
                wait = min(wait * 2, LONGEST_WAIT_S)
                continue
            self.held = True
            return

    def release(self) -> None:
        if self.held and self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        self.held = False

    def close(self) -> None:
        self.release()
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


class LockingConnection(sqlite3.Connection):
    """A SQLite connection (``sqlite3.connect(factory=...)``) that gives its write lock back when its
    transaction ends; ``core.db`` takes the lock before it sends ``BEGIN IMMEDIATE``."""

    write_lock: WriteLock | None = None

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self._release()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self._release()

    def close(self) -> None:
        try:
            super().close()
        finally:
            if self.write_lock is not None:
                self.write_lock.close()

    def _release(self) -> None:
        if self.write_lock is not None and not self.in_transaction:
            self.write_lock.release()


def lock_path(database: str) -> Path:
    return Path(f"{database}-writer.lock")
