"""A line logged per request is sampled: at most ``report_log_per_s`` stored reports a second get an INFO
line, and the next line says how many were left out, so none goes uncounted."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient

from safesphere.core.logging import Sampler
from tests.factories import Factory
from tests.incidents.reports import report_body
from tests.support.live import ONE_CLIENT_UNLIMITED


def test_the_sampler_lets_per_s_through_each_second_and_counts_the_rest() -> None:
    now = [100.2]
    sampler = Sampler(clock=lambda: now[0])
    assert [sampler.take(3) for _ in range(5)] == [0, 0, 0, None, None]
    now[0] = 101.0
    assert [sampler.take(3) for _ in range(2)] == [2, 0], "the first line of a new second counts the two"
    assert [sampler.take(0) for _ in range(4)] == [0, 0, 0, 0], "0 logs every event"


@pytest.mark.parametrize("settings_overrides", [{**ONE_CLIENT_UNLIMITED, "report_log_per_s": 3}])
def test_a_burst_of_reports_logs_at_most_the_sampled_lines(
    client: TestClient, factory: Factory, caplog: pytest.LogCaptureFixture
) -> None:
    camera = factory.engine_key()
    with caplog.at_level(logging.INFO, logger="safesphere.incidents.service"):
        for _ in range(12):
            body = report_body(threat_level="LOW", weapon_detected=False, weapon_types=[], is_critical=False)
            assert client.post("/threats/report", json=body, headers=camera.headers).status_code == 200
    lines = [
        r for r in caplog.records if r.name == "safesphere.incidents.service" and "recorded" in r.message
    ]
    left_out = sum(getattr(r, "left_out", 0) for r in lines)
    assert 3 <= len(lines) < 12, [r.message for r in lines]
    # Every report is either a line or counted in a later one (those after the last line wait for the next).
    assert len(lines) + left_out <= 12
