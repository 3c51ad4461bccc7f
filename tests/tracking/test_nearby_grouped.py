"""``nearby-risks`` lists each underlying incident once with how many reports it has (issue 15 item 1): a
camera that reports the same threat three times within the grouping window is one incident of 3 reports,
counted once in the score; an SOS and a single-report incident say 1."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from safesphere.core import clock
from tests.factories import Factory
from tests.incidents.reports import report_body
from tests.tracking.fixtures import MINUTE, SPOT, camera_sees_threat, factors_by_name, send_fix

NOON = datetime(2026, 11, 20, 11, 0, tzinfo=UTC)
KM_NORTH = 1 / 111.2


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"grouping_window_s": 120}


def test_a_grouped_incident_is_listed_once_with_its_report_count(
    client: TestClient, factory: Factory
) -> None:
    tourist, other = factory.tourist(), factory.tourist()
    camera = factory.engine_key(latitude=SPOT[0], longitude=SPOT[1])
    with clock.frozen(NOON) as frozen:
        send_fix(client, other, NOON, lat=SPOT[0] + 0.3 * KM_NORTH)
        reports = []
        for second, level in enumerate(("CRITICAL", "HIGH", "CRITICAL")):
            body = report_body(timestamp=(NOON + timedelta(seconds=second)).isoformat(), threat_level=level,
                               is_critical=level == "CRITICAL")  # fmt: skip
            response = client.post("/threats/report", json=body, headers=camera.headers)
            assert response.status_code == 200, response.text
            reports.append(response.json())
            frozen.advance(seconds=1)
        single = camera_sees_threat(client, factory, NOON, level="HIGH", lat=SPOT[0] + 0.5 * KM_NORTH)
        sos = client.post("/sos", json={"message": "help"}, headers=other.headers)
        assert sos.status_code == 201, sos.text
        frozen.advance(minutes=1)
        fix = send_fix(client, tourist, NOON + MINUTE)
        risks = client.get("/location/nearby-risks", headers=tourist.headers).json()

    case = reports[0]["incident_id"]
    assert [r["grouped_into"] for r in reports] == [None, case, case]
    by_type = sorted((a["type"], a["severity"], a["report_count"]) for a in risks["nearby_alerts"])
    assert by_type == [("incident", "critical", 3), ("incident", "high", 1), ("sos", "critical", 1)]
    assert risks["risk_summary"]["total_alerts"] == 3
    assert factors_by_name(fix)["nearby_alerts"]["details"].startswith("3 alerts within")
    assert single
