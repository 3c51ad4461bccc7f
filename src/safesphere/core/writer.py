"""One writer per process, committing in groups (issue 17).

Before, every threat report and location fix took the database's write lock (SQLite's ``BEGIN
IMMEDIATE``) for its own transaction and paid its own durable ``COMMIT`` (an fsync with
``synchronous=FULL``); requests queued for the lock one by one. Now the hot write paths hand their
*unit of work* (a function of a session that writes and does not commit) to this process's writer: a
dedicated thread that takes every unit waiting, up to ``writer_max_batch``, runs each in a savepoint of
one transaction, and commits them together. Each request is answered only after the ``COMMIT`` of its
batch returned, so an acknowledged write is as durable as before; a batch pays one lock hand-over and
one fsync however many requests it holds.

A unit that fails (a duplicate id, a grouping race lost, invalid input found while writing) rolls back
its own savepoint and gets its own exception; the batch goes on. If the batch itself cannot commit (the
database refused the transaction), each of its units is run again in a transaction of its own, so one
unit never fails another. Several processes stay correct as before: the writer's transaction takes the
same write lock (SQLite's file lock, PostgreSQL's row and advisory locks) as any other.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Request
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from safesphere.core.db import Database
from safesphere.core.errors import ServiceUnavailable

log = logging.getLogger(__name__)

T = TypeVar("T")

Work = Callable[[Session], T]
"""A unit of work: writes through the session it is given and returns its result; never commits."""


@dataclass(eq=False)
class _Job(Generic[T]):
    work: Work[T]
    future: Future[T] = field(default_factory=Future)
    tries: int = 0


TRANSIENT_SQLSTATES = frozenset({"40P01", "40001"})
"""PostgreSQL's deadlock and serialization failures: two instances' batches can take the same rows in
opposite orders (each report of a pair retried against the other instance); the database then aborts one
side's statement. Nothing about the unit is wrong: it is run again, alone."""
TRIES = 4
"""A unit that keeps meeting transient failures gets the last one after this many runs."""


def _transient(error: BaseException) -> bool:
    return isinstance(error, DBAPIError) and getattr(error.orig, "sqlstate", None) in TRANSIENT_SQLSTATES


class _BatchFailed(Exception):
    """The batch's transaction is gone (not only one unit's savepoint): its units are run again alone."""


_STOP = object()


def _shutting_down() -> ServiceUnavailable:
    return ServiceUnavailable("The server is shutting down; retry", retry_after_s=1)


class Writer:
    """Runs units of work on one write session, ``max_batch`` per transaction, in a thread of its own."""

    def __init__(self, db: Database, *, max_batch: int) -> None:
        self._db = db
        self.max_batch = max(1, max_batch)
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._serve, name="safesphere-writer", daemon=True)
        self._stopped = False
        self.batches = 0
        """Transactions committed so far (with ``units``: the mean batch size, for tests and metrics)."""
        self.units = 0

    @property
    def waiting(self) -> int:
        """Units handed over and not taken into a batch yet."""
        return self._queue.qsize()

    def start(self) -> Writer:
        self._thread.start()
        return self

    def stop(self, timeout_s: float = 30.0) -> None:
        """Finish every unit already handed over, then stop; later units are refused with a 503."""
        if self._stopped:
            return
        self._stopped = True
        self._queue.put(_STOP)
        self._thread.join(timeout_s)

    def submit(self, work: Work[T]) -> Future[T]:
        """Hand ``work`` to the writer; the future holds its result once its batch is committed."""
        if self._stopped:
            raise _shutting_down()
        job: _Job[T] = _Job(work)
        self._queue.put(job)
        return job.future

    async def run(self, work: Work[T]) -> T:
        """``submit`` for the event loop: the caller waits without holding a thread."""
        return await asyncio.wrap_future(self.submit(work))

    def _serve(self) -> None:
        stopping = False
        while not stopping:
            first = self._queue.get()
            if first is _STOP:
                break
            jobs: list[_Job[Any]] = [first]
            while len(jobs) < self.max_batch:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is _STOP:
                    stopping = True
                    break
                jobs.append(more)
            running = [job for job in jobs if job.future.set_running_or_notify_cancel()]
            try:
                self._write(running)
            except Exception as exc:  # the writer must outlive anything: every later request needs it
                log.exception("the writer failed a batch of %d units", len(running))
                for job in running:
                    if not job.future.done():
                        job.future.set_exception(exc)
        self._refuse_waiting()

    def _refuse_waiting(self) -> None:
        while True:
            try:
                job = self._queue.get_nowait()
            except queue.Empty:
                return
            if job is not _STOP and job.future.set_running_or_notify_cancel():
                job.future.set_exception(_shutting_down())

    def _write(self, jobs: list[_Job[Any]]) -> None:
        if not jobs:
            return
        for job in jobs:
            job.tries += 1
        try:
            outcomes = self._commit(jobs)
        except Exception as exc:  # every unit gets an answer, none is left waiting
            if len(jobs) == 1:
                self._fail(jobs[0], exc)
                return
            log.warning("a batch of %d writes could not commit (%s); writing each alone", len(jobs), exc)
            for job in jobs:
                self._write([job])
            return
        self.batches += 1
        self.units += len(jobs)
        again = []
        for job, (result, error) in zip(jobs, outcomes, strict=True):
            if error is None:
                job.future.set_result(result)
            elif _transient(error) and job.tries < TRIES:
                again.append(job)
            else:
                job.future.set_exception(error)
        for job in again:  # after the batch let go of its locks
            self._write([job])

    def _fail(self, job: _Job[Any], error: Exception) -> None:
        if _transient(error) and job.tries < TRIES:
            log.info("a write met a transient failure (%s); running it again", error.__class__.__name__)
            self._write([job])
            return
        job.future.set_exception(error)

    def _commit(self, jobs: list[_Job[Any]]) -> list[tuple[Any, BaseException | None]]:
        outcomes: list[tuple[Any, BaseException | None]] = []
        with self._db.new_session() as session:
            transaction = session.begin()
            try:
                if len(jobs) == 1:  # alone, its failure rolls back the transaction: no savepoint needed
                    outcomes.append((jobs[0].work(session), None))
                    transaction.commit()
                    return outcomes
                for job in jobs:
                    try:
                        with session.begin_nested():
                            outcomes.append((job.work(session), None))
                    except Exception as exc:  # the unit's own failure, handed to its caller
                        if not transaction.is_active:
                            raise _BatchFailed(str(exc)) from exc
                        outcomes.append((None, exc))
                transaction.commit()
            except BaseException:
                if transaction.is_active:
                    transaction.rollback()
                raise
        return outcomes


def alone(db: Database, work: Work[T]) -> T:
    """``work`` committed in a transaction of its own, without the writer (a caller that has none)."""
    with db.new_session() as session:
        result = work(session)
        session.commit()
    return result


async def get_writer(request: Request) -> Writer:
    writer: Writer = request.app.state.writer
    return writer


WriterDep = Annotated[Writer, Depends(get_writer)]
"""The process's writer: the hot write paths commit through it, in groups."""
