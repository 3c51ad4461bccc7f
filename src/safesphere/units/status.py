"""Pure: how a unit's status follows its incidents, and which statuses an officer sets by hand."""

from __future__ import annotations

from safesphere.units.models import UnitStatus

SET_BY_HAND = frozenset({UnitStatus.available, UnitStatus.busy, UnitStatus.off})
"""``dispatched`` comes only from dispatching the unit to an incident."""


def can_dispatch(status: str) -> bool:
    """Only an available unit is sent: a busy, off or already dispatched one is refused."""
    return status == UnitStatus.available


def after_release(status: str, *, open_assignments_left: int) -> str:
    """A dispatched unit whose last incident closed is available again; one an officer set busy or off
    (or available) by hand keeps that status, and one still on another incident stays dispatched."""
    if status == UnitStatus.dispatched and open_assignments_left == 0:
        return UnitStatus.available.value
    return status
