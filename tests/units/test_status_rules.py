"""The pure rule of a unit's status when an incident it is on closes."""

from __future__ import annotations

import pytest

from safesphere.units.status import after_release, can_dispatch


@pytest.mark.parametrize(
    ("status", "left", "after"),
    [("dispatched", 0, "available"), ("dispatched", 1, "dispatched"), ("busy", 0, "busy"),
     ("off", 0, "off"), ("available", 0, "available")],
)  # fmt: skip
def test_only_a_dispatched_unit_with_no_incident_left_becomes_available(
    status: str, left: int, after: str
) -> None:
    assert after_release(status, open_assignments_left=left) == after


def test_only_an_available_unit_is_sent() -> None:
    assert [s for s in ("available", "dispatched", "busy", "off") if can_dispatch(s)] == ["available"]
