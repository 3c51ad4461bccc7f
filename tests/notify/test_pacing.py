"""A busy delivery worker rests between rounds in proportion to their own database work, so a stream of
reports goes out in rounds that send many; an idle one sends at once."""

from __future__ import annotations

import pytest

from safesphere.notify.worker import ROUND_DUTY, rest_between_rounds


def test_the_rest_keeps_the_worker_to_its_share_of_the_time() -> None:
    work = 0.004  # a round's two transactions
    rest = rest_between_rounds(work, longest_s=1.0)
    assert work / (work + rest) == pytest.approx(ROUND_DUTY)


def test_the_rest_never_exceeds_the_setting() -> None:
    assert rest_between_rounds(0.5, longest_s=0.025) == 0.025  # a slow round (a stalled database)


def test_no_work_means_no_rest() -> None:
    assert rest_between_rounds(0.0, longest_s=0.025) == 0.0
