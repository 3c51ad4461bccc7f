"""What a delivery's source domain is told: notify sends and records attempts, knows no source's tables.

A domain that queues deliveries registers, for its source kinds, a completion hook (called in the
transaction that records a round of attempts, with the deliveries that just finished an attempt) and,
if it wants, a claim hook (called in the claiming transaction: which claimed deliveries are no longer
wanted and are cancelled instead of sent). The owning domain registers them when its module is imported
(``incidents.deliveries``); the application imports every domain before the worker starts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session


@dataclass(frozen=True)
class Finished:
    """A delivery whose attempt was just recorded, with its new status and when the attempt ended."""

    incident_id: str | None
    audience: str
    source_kind: str
    source_id: str
    status: str
    at: datetime


@dataclass(frozen=True)
class Claim:
    """A delivery just claimed for sending."""

    delivery_id: int
    source_kind: str
    incident_id: str | None


CompletionHook = Callable[[Session, list[Finished]], None]
ClaimHook = Callable[[sa.Connection, list[Claim]], list[int]]

_completion_hooks: list[tuple[frozenset[str], CompletionHook]] = []
_claim_hooks: list[tuple[frozenset[str], ClaimHook]] = []


def on_finished(source_kinds: Iterable[str], hook: CompletionHook) -> None:
    """Call ``hook`` once per round with the finished deliveries of ``source_kinds`` (once however often
    its module is imported)."""
    entry = (frozenset(source_kinds), hook)
    if entry not in _completion_hooks:
        _completion_hooks.append(entry)


def on_claimed(source_kinds: Iterable[str], hook: ClaimHook) -> None:
    """Ask ``hook`` which claimed deliveries of ``source_kinds`` to cancel (the delivery ids it returns)."""
    entry = (frozenset(source_kinds), hook)
    if entry not in _claim_hooks:
        _claim_hooks.append(entry)


def after_attempts(*, session: Session, finished: list[Finished]) -> None:
    """What a round of attempts changes at their sources: each hook gets its kinds' finished deliveries."""
    for kinds, hook in _completion_hooks:
        mine = [f for f in finished if f.source_kind in kinds]
        if mine:
            hook(session, mine)


def unwanted(*, connection: sa.Connection, claimed: list[Claim]) -> list[int]:
    """The claimed deliveries their sources no longer want sent."""
    cancelled: list[int] = []
    for kinds, hook in _claim_hooks:
        mine = [c for c in claimed if c.source_kind in kinds]
        if mine:
            cancelled += hook(connection, mine)
    return cancelled
