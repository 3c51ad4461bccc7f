"""The report panels in a real browser: the notifications history (failed first, filtered, counted) and the
response analytics charts (one bar per hour, a point per hour with a time), against a live server whose
police webhook is down, so its pages fail for real."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from selenium.webdriver import Chrome as WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select

from safesphere.core.config import Settings
from tests.dashboard.page import ARTIFACTS, click, leave, log_in, wait
from tests.factories import Account, Factory
from tests.incidents.reports import report_body
from tests.support.browser import severe_console_entries
from tests.support.live import LiveServer, free_port
from tests.support.receivers import wait_for

CONTACT = {"name": "Ana Contact", "relation": "sister", "phone": "+33600000077", "email": "ana@example.com"}


@pytest.fixture
def server(settings: Settings) -> Iterator[LiveServer]:
    """A live server paging a police webhook nobody listens at: one attempt, then failed."""
    down = f"http://127.0.0.1:{free_port()}/dispatch"
    extra = {"SAFESPHERE_POLICE_WEBHOOK_URL": down, "SAFESPHERE_DELIVERY_MAX_ATTEMPTS": "1",
             "SAFESPHERE_ESCALATION_ROUNDS": "0"}  # fmt: skip
    with LiveServer(settings, extra_env=extra) as live:
        yield live


@pytest.fixture
def browser(chromium: WebDriver, server: LiveServer) -> Iterator[WebDriver]:
    severe_console_entries(chromium)
    try:
        yield chromium
    finally:
        leave(chromium)
        severe_console_entries(chromium)


def _report(
    api: httpx.Client, factory: Factory, level: str, hours_ago: int, owner: Account | None = None
) -> str:
    moment = datetime.now(UTC) - timedelta(hours=hours_ago)
    body = report_body(threat_level=level, is_critical=level == "CRITICAL", timestamp=moment.isoformat(),
                       latitude=48.8566, longitude=2.3522)  # fmt: skip
    response = api.post("/threats/report", json=body, headers=factory.engine_key(owner=owner).headers)
    assert response.status_code == 200, response.text
    return str(body["incident_id"])


def _night(api: httpx.Client, factory: Factory, officer: Account) -> None:
    """A tourist's HIGH three hours back (police, their contact, them), a camera's CRITICAL an hour back,
    acknowledged, and a LOW now; every police page fails, the rest go to the server log."""
    owner = factory.tourist()
    assert api.post("/me/contacts", json=CONTACT, headers=owner.headers).status_code == 201
    _report(api, factory, "HIGH", 3, owner)
    critical = _report(api, factory, "CRITICAL", 1)
    _report(api, factory, "LOW", 0)

    def settled() -> bool:
        counts = api.get("/deliveries", headers=officer.headers).json()["counts"]
        return bool(counts["failed"] > 0 and counts["pending"] + counts["sending"] == 0)

    wait_for(settled, timeout_s=30, what="every message sent or failed")
    assert api.post(f"/incidents/{critical}/acknowledge", headers=officer.headers).status_code == 200


def _rows(driver: WebDriver) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = driver.execute_script(
        "return [...document.querySelectorAll('#history-list tr[data-delivery-id]')].map((tr) => ({"
        "  id: tr.dataset.deliveryId, status: tr.dataset.status,"
        "  audience: tr.querySelector('td.audience').textContent,"
        "  recipient: tr.querySelector('td.recipient').textContent}));"
    )
    return rows


def _shot(driver: WebDriver, element_id: str, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    panel = driver.find_element(By.ID, element_id)
    driver.execute_script("arguments[0].scrollIntoView();", panel)
    panel.screenshot(str(ARTIFACTS / f"{name}.png"))


def _chart(driver: WebDriver, chart_id: str) -> dict[str, Any]:
    found: dict[str, Any] = driver.execute_script(
        "const chart = document.getElementById(arguments[0]);"
        "return {bars: chart.dataset.bars, points: chart.dataset.points, total: chart.dataset.total,"
        "  filled: [...chart.querySelectorAll('g.bar')].filter((g) => g.dataset.total !== '0').length,"
        "  failed: [...chart.querySelectorAll('rect[data-series=failed]')].length,"
        "  marks: chart.querySelectorAll('g.bar, circle.point').length};",
        chart_id,
    )
    return found


def test_the_history_lists_failed_first_and_filters_and_the_charts_show_each_hour(
    browser: WebDriver, server: LiveServer, factory: Factory
) -> None:
    officer = factory.authority()
    with httpx.Client(base_url=server.url, timeout=30) as api:
        _night(api, factory, officer)
        history = api.get("/deliveries", params={"order": "failed_first"}, headers=officer.headers).json()
        hourly = api.get("/statistics/hourly", headers=officer.headers).json()
    failed = history["counts"]["failed"]
    assert 0 < failed < history["total"] <= 25

    log_in(browser, server, officer)
    wait(browser).until(
        lambda d: d.find_element(By.ID, "history-list").get_attribute("data-loaded") == "true"
    )
    rows = _rows(browser)
    assert [r["id"] for r in rows] == [str(d["id"]) for d in history["deliveries"]]
    assert {r["status"] for r in rows[:failed]} == {"failed"} and "failed" not in {
        r["status"] for r in rows[failed:]
    }
    assert (
        browser.find_element(By.ID, "history-count").text == f"{history['total']} matching · {failed} failed"
    )
    assert f"Failed: {failed}" in browser.find_element(By.ID, "history-counts").text

    Select(browser.find_element(By.ID, "history-status")).select_by_value("failed")
    wait(browser).until(lambda d: {r["status"] for r in _rows(d)} == {"failed"})
    assert len(_rows(browser)) == failed and all(r["audience"] == "Police" for r in _rows(browser))
    Select(browser.find_element(By.ID, "history-status")).select_by_value("")
    Select(browser.find_element(By.ID, "history-audience")).select_by_value("contact")
    wait(browser).until(lambda d: _rows(d) and {r["audience"] for r in _rows(d)} == {"Emergency contact"})
    assert {r["recipient"] for r in _rows(browser)} == {CONTACT["name"]}, (
        "the log channel reaches them by name"
    )
    _shot(browser, "history-panel", "notifications-history")
    incident_id = next(d["incident_id"] for d in history["deliveries"] if d["audience"] == "contact")
    click(browser, f'#history-list tr:first-child button[data-incident-id="{incident_id}"]')
    detail = (By.CSS_SELECTOR, f'#incident-detail[data-incident-id="{incident_id}"]')
    wait(browser).until(ec.visibility_of_element_located(detail))  # the row's incident opens in the detail

    wait(browser).until(
        lambda d: d.find_element(By.ID, "analytics-panel").get_attribute("data-loaded") == "true"
    )
    incidents, notify, ack = (_chart(browser, c) for c in ("chart-incidents", "chart-notify", "chart-ack"))
    hours = hourly["hours"]
    assert incidents["bars"] == str(len(hours)) == "24"
    assert incidents["filled"] == 3 and incidents["total"] == "3", "three incidents, three hours apart"
    with_notify = [h for h in hours if h["time_to_notify_mean_ms"] is not None]
    assert notify["points"] == str(len(with_notify)) and len(with_notify) >= 2
    assert ack["points"] == "1", "one incident acknowledged"
    deliveries = _chart(browser, "chart-deliveries")
    assert deliveries["failed"] == len([h for h in hours if h["deliveries"]["failed"]]) >= 1
    summary = browser.find_element(By.ID, "analytics-summary").text
    assert f"Messages failed\n{sum(h['deliveries']['failed'] for h in hours)}" in summary
    _shot(browser, "analytics-panel", "response-analytics")
    assert severe_console_entries(browser) == []
