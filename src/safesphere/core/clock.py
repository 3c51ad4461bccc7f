"""Time, injectable: everything asks ``now()`` so tests can move time instead of sleeping."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def microseconds(moment: datetime) -> int:
    """Exact integer microseconds since the epoch (a float timestamp would round)."""
    delta = moment - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def duration_us(window: timedelta) -> int:
    """A duration in exact integer microseconds."""
    return (window.days * 86_400 + window.seconds) * 1_000_000 + window.microseconds


def _system_now() -> datetime:
    return datetime.now(UTC)


_source: Callable[[], datetime] = _system_now


def now() -> datetime:
    """The current time as an aware UTC datetime."""
    return _source()


def ensure_utc(value: datetime, *, naive_zone: object = UTC) -> datetime:
    """An aware UTC datetime; a naive one is read in ``naive_zone`` (a tzinfo)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=naive_zone)  # type: ignore[arg-type]
    return value.astimezone(UTC)


class FrozenClock:
    """A clock that stands still until moved: ``clock.advance(seconds=30)``."""

    def __init__(self, start: datetime) -> None:
        self.current = ensure_utc(start)

    def __call__(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> datetime:
        self.current += timedelta(**delta)
        return self.current

    def set(self, when: datetime) -> None:
        self.current = ensure_utc(when)


@contextmanager
def frozen(start: datetime) -> Iterator[FrozenClock]:
    """Freeze ``now()`` at ``start`` for the duration of the block."""
    global _source
    previous = _source
    clock = FrozenClock(start)
    _source = clock
    try:
        yield clock
    finally:
        _source = previous
