"""Closing an incident as a false alarm (issue 14 item 2): the dashboard shows the incident (whose row
stands for its alerts) closed as a false alarm, live, and ``/metrics`` no longer counts its safety alert or
the warning it sent."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families
from selenium.webdriver import Chrome as WebDriver

from safesphere.core import clock
from tests.dashboard.page import attribute, log_in, report, wait, wait_until_live_and_loaded
from tests.factories import Account, Factory
from tests.support.browser import severe_console_entries
from tests.support.live import LiveServer
from tests.tracking.fixtures import SPOT, fix_body


def _not_resolved(api: httpx.Client, admin: Account) -> dict[tuple[str, str], float]:
    response = api.get("/metrics", headers=admin.headers)
    assert response.status_code == 200, response.text
    return {
        (sample.labels["type"], sample.labels["status"]): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
        if sample.name == "safesphere_alerts_not_resolved"
    }


def test_a_false_alarm_shows_on_the_dashboard_and_leaves_the_metrics_together(
    browser: WebDriver, live_server: LiveServer, factory: Factory
) -> None:
    officer, admin, tourist = factory.authority(), factory.admin(), factory.tourist()
    camera = factory.engine_key(latitude=SPOT[0], longitude=SPOT[1])
    log_in(browser, live_server, officer)
    wait_until_live_and_loaded(browser)
    with httpx.Client(base_url=live_server.url, timeout=30) as api:
        fix = api.post("/location/update", json=fix_body(clock.now()), headers=tourist.headers)
        assert fix.status_code == 200, fix.text
        incident_id = report(api, camera, threat_level="CRITICAL", timestamp=clock.now().isoformat())
        caused = api.get("/alerts", params={"status": "open"}, headers=officer.headers).json()
        caused = [a for a in caused if a["incident_id"] == incident_id]
        assert sorted(a["type"] for a in caused) == ["incident", "warning"]
        row = f'#incident-list tr[data-incident-id="{incident_id}"]'
        wait(browser).until(lambda d: attribute(d, row, "data-status") == "actions_executed")
        assert _not_resolved(api, admin).get(("incident", "open")) == 1

        closed = api.post(
            f"/incidents/{incident_id}/resolve", json={"outcome": "false_alarm"}, headers=officer.headers
        )
        assert closed.status_code == 200, closed.text

        wait(browser).until(lambda d: attribute(d, row, "data-status") == "false_alarm")
        counted = _not_resolved(api, admin)
        assert ("incident", "open") not in counted and ("warning", "open") not in counted
    assert severe_console_entries(browser) == []
