"""The background thread that empties the spool: retries with backoff until the server takes each request."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from safesphere.client.delivery import Attempt, Backoff, Verdict
from safesphere.client.spool import Spool, SpooledRequest

logger = logging.getLogger(__name__)

BATCH_SIZE = 50
"""Rows read from the spool at a time; keeps memory bounded when screenshots are waiting."""

SPOOL_POLL_S = 30.0
"""With nothing due, look again this often: another process may have spooled into the same file."""

STOP_TIMEOUT_S = 30.0
"""How long ``stop()`` waits for an attempt in flight (bounded by the HTTP timeout) to finish."""


class Flusher:
    """Sends what is due, oldest first; after a failure it pauses the whole queue for the backoff delay."""

    def __init__(self, *, spool: Spool, send: Callable[[SpooledRequest], Attempt], backoff: Backoff) -> None:
        self._spool = spool
        self._send = send
        self._backoff = backoff
        self._send_lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._paused_until = 0.0
        self.backlog = True
        """Whether the spool may hold something; a fresh reporter assumes a previous run left rows."""
        self._thread = threading.Thread(target=self._run, name="safesphere-spool-flusher", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(STOP_TIMEOUT_S)

    def wake(self) -> None:
        """Something was spooled: look at the queue now."""
        self.backlog = True
        self._wake.set()

    def server_is_back(self) -> None:
        """A direct request just succeeded: end the pause and send the whole backlog now."""
        self._paused_until = 0.0
        self._spool.expedite(now=time.time())
        self._wake.set()

    def drain(self, *, force: bool) -> bool:
        """Send due requests (every request when ``force``) until the queue is empty or the server fails.

        Returns True when the queue was emptied of everything that could be sent.
        """
        with self._send_lock:
            while not (self._stop.is_set() and not force):
                batch = self._spool.due(now=None if force else time.time(), limit=BATCH_SIZE)
                if not batch:
                    self.backlog = self._spool.pending() > 0
                    return True
                for request in batch:
                    if not self._deliver(request):
                        return False
            return False

    def _deliver(self, request: SpooledRequest) -> bool:
        attempt = self._send(request)
        context = {"incident_id": request.incident_id, "spool_kind": request.kind}
        if attempt.verdict is Verdict.delivered:
            self._spool.remove(request.id)
            logger.info("spooled %s delivered", request.kind, extra=context)
            return True
        if attempt.verdict is Verdict.rejected:
            status = attempt.status_code or 0
            self._spool.reject(request, status_code=status, detail=str(attempt.detail))
            logger.warning("spooled %s rejected: %s", request.kind, attempt.error, extra=context)
            return True
        delay = self._backoff.delay(request.attempts)
        self._paused_until = time.time() + delay
        self._spool.postpone(request.id, due_at=self._paused_until, error=attempt.error)
        logger.info(
            "spooled %s not delivered, retry in %.1fs: %s", request.kind, delay, attempt.error, extra=context
        )
        return False

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            try:
                self.drain(force=False)
                timeout = self._seconds_until_due()
            except Exception:
                logger.exception("spool flusher round failed")
                timeout = SPOOL_POLL_S
            self._wake.wait(timeout)

    def _seconds_until_due(self) -> float:
        next_due = self._spool.next_due_at()
        if next_due is None:
            return SPOOL_POLL_S
        target = max(next_due, self._paused_until)
        return min(max(target - time.time(), 0.0), SPOOL_POLL_S)
