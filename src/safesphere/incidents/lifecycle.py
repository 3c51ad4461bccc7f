"""The incident lifecycle as data: which status each authority action moves an incident from and to.

``logged -> actions_executed -> acknowledged -> dispatched -> resolved | false_alarm``. Pure.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from safesphere.incidents.models import IncidentStatus as S


class Move(StrEnum):
    acknowledge = "acknowledge"
    dispatch = "dispatch"
    resolve = "resolve"
    false_alarm = "false_alarm"


@dataclass(frozen=True)
class Transition:
    sources: frozenset[S]
    target: S
    event: str


OPEN = frozenset({S.logged, S.actions_executed, S.acknowledged, S.dispatched})
"""An incident still being handled; resolved and false alarms are closed."""
UNACKNOWLEDGED = frozenset({S.logged, S.actions_executed})
"""Nobody has taken it on yet: escalation keeps paging until one does."""

TRANSITIONS: dict[Move, Transition] = {
    Move.acknowledge: Transition(UNACKNOWLEDGED, S.acknowledged, "acknowledged"),
    Move.dispatch: Transition(frozenset({*UNACKNOWLEDGED, S.acknowledged}), S.dispatched, "dispatched"),
    Move.resolve: Transition(OPEN, S.resolved, "resolved"),
    Move.false_alarm: Transition(OPEN, S.false_alarm, "false_alarm"),
}


def transition(move: Move) -> Transition:
    return TRANSITIONS[move]


def is_open(status: str) -> bool:
    return status in OPEN
