"""Holding the process's writer (``core.writer``) busy, so that units handed to it meanwhile queue and
are then committed together as one batch."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session

from safesphere.core.writer import Writer

WAIT_S = 10.0


@contextmanager
def held(writer: Writer) -> Iterator[None]:
    """While inside, the writer runs a unit that waits; on leaving, it is let go and takes what queued."""
    started, release = threading.Event(), threading.Event()

    def wait(_session: Session) -> None:
        started.set()
        if not release.wait(WAIT_S):
            raise TimeoutError("the writer was held too long")

    writer.submit(wait)
    if not started.wait(WAIT_S):
        raise TimeoutError("the writer never took the holding unit")
    try:
        yield
    finally:
        release.set()
