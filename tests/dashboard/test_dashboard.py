"""The dashboard in a real headless Chromium against a live server: what an officer relies on."""

from __future__ import annotations

import time

import httpx
import pytest
from selenium.webdriver import Chrome as WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec

from safesphere.core.config import Settings
from tests.dashboard.page import (
    click_row,
    incident_row,
    leave,
    log_in,
    open_high_incident,
    pick_unit,
    register_unit,
    report,
    row_attribute,
    session_storage,
    wait,
    wait_until_live_and_loaded,
)
from tests.factories import Factory
from tests.support.browser import severe_console_entries
from tests.support.live import ONE_CLIENT_UNLIMITED, LiveServer

REPORTS_ACROSS_RECONNECTS = 10
REPORT_SPACING_S = 0.5
"""Ten reports over 5 s span three 1.5 s streams and the 2 s pauses between them."""
RECONNECT_OVERLAP_S = 1.0
"""Shorter than the 2 s pause, so a stream that started afresh would miss the reports of the pause's
first second; not none, since a report stamped before a look and committed after it (its writer batch
still open) is found by the next look only within the overlap."""


def test_an_authority_sees_incidents_and_statistics_and_logs_out(
    browser: WebDriver, live_server: LiveServer, factory: Factory
) -> None:
    engine = factory.engine_key()
    low = report(factory.client, engine, threat_level="LOW", threat_score=0.2, weapon_detected=False,
                 weapon_types=[], is_critical=False, latitude=48.85, longitude=2.35)  # fmt: skip
    critical = report(factory.client, engine, latitude=48.86, longitude=2.36)
    log_in(browser, live_server, factory.authority())

    assert "level-LOW" in row_attribute(browser, low, "class")
    assert "level-CRITICAL" in row_attribute(browser, critical, "class")
    wait(browser).until(ec.text_to_be_present_in_element((By.ID, "stats-total"), "2"))
    assert browser.find_element(By.ID, "stats-CRITICAL").text == "1"
    assert browser.find_element(By.ID, "stats-LOW").text == "1"
    # Both located incidents are on the map; their own alerts are their rows, not work-queue cards.
    wait(browser).until(
        lambda d: len(d.find_elements(By.CSS_SELECTOR, "#map circle.incident[data-incident-id]")) == 2
    )
    wait(browser).until(ec.text_to_be_present_in_element((By.ID, "queue-count"), "0 SOS · 0 anomaly"))
    assert not browser.find_elements(By.CSS_SELECTOR, "#alert-list li[data-alert-id]")
    stored = session_storage(browser)
    assert stored["safesphere.token"]
    assert browser.execute_script("return window.localStorage.length;") == 0

    browser.find_element(By.ID, "logout").click()
    wait(browser).until(ec.visibility_of_element_located((By.ID, "login-form")))
    assert session_storage(browser) == {}
    assert not browser.find_elements(By.CSS_SELECTOR, "#incident-list tr")
    assert severe_console_entries(browser) == []


def test_a_tourist_is_refused_with_a_message_and_nothing_is_stored(
    browser: WebDriver, live_server: LiveServer, factory: Factory
) -> None:
    log_in(browser, live_server, factory.tourist())

    wait(browser).until(ec.text_to_be_present_in_element((By.ID, "login-message"), "tourist"))
    assert "cannot use" in browser.find_element(By.ID, "login-message").text
    assert browser.find_element(By.ID, "login-form").is_displayed()
    assert not browser.find_element(By.ID, "dashboard-view").is_displayed()
    assert session_storage(browser) == {}
    assert severe_console_entries(browser) == []


def test_an_expired_token_returns_to_the_login_form(
    browser: WebDriver, live_server: LiveServer, factory: Factory
) -> None:
    browser.get(f"{live_server.url}/dashboard")
    browser.execute_script(
        "sessionStorage.setItem('safesphere.token', 'not-a-token');"
        "sessionStorage.setItem('safesphere.role', 'authority');"
    )
    browser.refresh()

    wait(browser).until(ec.text_to_be_present_in_element((By.ID, "login-message"), "log in again"))
    assert browser.find_element(By.ID, "login-form").is_displayed()
    assert session_storage(browser) == {}


def test_an_incident_reported_while_the_page_is_open_appears_live_and_highlighted(
    browser: WebDriver, live_server: LiveServer, factory: Factory
) -> None:
    engine = factory.engine_key()
    log_in(browser, live_server, factory.authority())
    wait(browser).until(ec.text_to_be_present_in_element((By.ID, "stats-total"), "0"))
    wait_until_live_and_loaded(browser)

    with httpx.Client(base_url=live_server.url, timeout=30) as api:
        incident_id = report(api, engine, latitude=48.86, longitude=2.36)

    assert "new" in row_attribute(browser, incident_id, "class").split()
    assert row_attribute(browser, incident_id, "data-threat-level") == "CRITICAL"
    wait(browser).until(ec.text_to_be_present_in_element((By.ID, "stats-total"), "1"))
    marker = f'#map circle.incident.new[data-incident-id="{incident_id}"]'
    wait(browser).until(ec.presence_of_element_located((By.CSS_SELECTOR, marker)))
    assert browser.find_element(By.ID, "live-status").text == "live"
    assert severe_console_entries(browser) == []


def test_acknowledge_moves_the_incident_on_in_the_api(
    browser: WebDriver, live_server: LiveServer, factory: Factory
) -> None:
    officer = factory.authority()
    incident_id = open_high_incident(browser, live_server, factory, officer)
    button = browser.find_element(By.CSS_SELECTOR, '#incident-detail button[data-action="acknowledge"]')
    wait(browser).until(ec.element_to_be_clickable(button)).click()

    wait(browser).until(
        ec.text_to_be_present_in_element_attribute(
            (By.CSS_SELECTOR, f'#incident-list tr[data-incident-id="{incident_id}"]'),
            "data-status",
            "acknowledged",
        )
    )
    stored = factory.client.get(f"/incidents/{incident_id}", headers=officer.headers).json()
    assert stored["status"] == "acknowledged"
    timeline = factory.client.get(f"/incidents/{incident_id}/timeline", headers=officer.headers).json()
    acknowledged = [e for e in timeline["entries"] if e["kind"] == "acknowledged"]
    assert [e["actor_id"] for e in acknowledged] == [officer.user.id]
    wait(browser).until(
        ec.text_to_be_present_in_element((By.ID, "detail-timeline"), f"Acknowledged by {officer.user.email}")
    )
    wait(browser).until(
        lambda d: (
            not d.find_element(
                By.CSS_SELECTOR, '#incident-detail button[data-action="acknowledge"]'
            ).is_enabled()
        )
    )
    assert severe_console_entries(browser) == []


def test_a_refused_dispatch_shows_the_api_detail(
    browser: WebDriver, live_server: LiveServer, factory: Factory
) -> None:
    """The API's word reaches the officer: here a dispatch of an incident resolved meanwhile (409)."""
    officer = factory.authority()
    unit_id = register_unit(factory, officer, "Patrol 12")
    incident_id = open_high_incident(browser, live_server, factory, officer)
    pick_unit(browser, unit_id)
    resolved = factory.client.post(
        f"/incidents/{incident_id}/resolve", json={"outcome": "false_alarm"}, headers=officer.headers
    )
    assert resolved.status_code == 200, resolved.text
    # The officer clicks before the live update greys the button out.
    browser.execute_script(
        "const button = document.querySelector('#incident-detail button[data-action=dispatch]');"
        "button.disabled = false; button.click();"
    )

    conflict = factory.client.post(
        f"/incidents/{incident_id}/dispatch", json={"unit": "Patrol 12"}, headers=officer.headers
    )
    assert conflict.status_code == 409
    wait(browser).until(
        ec.text_to_be_present_in_element((By.ID, "action-message"), conflict.json()["detail"])
    )
    stored = factory.client.get(f"/incidents/{incident_id}", headers=officer.headers).json()
    assert stored["status"] == "false_alarm"


def test_reconnects_resume_from_the_last_id_so_nothing_is_missed(
    browser: WebDriver, settings: Settings, factory: Factory
) -> None:
    """Streams that end every 1.5 s and an overlap shorter than the pause between them: reports made
    while the page is between streams arrive only if it resumes with ``since``."""
    server = LiveServer(
        settings,
        extra_env={
            "SAFESPHERE_LIVE_STREAM_S": "1.5",
            "SAFESPHERE_LIVE_OVERLAP_S": str(RECONNECT_OVERLAP_S),
        },
    )
    server.start()
    try:
        engine = factory.engine_key()
        log_in(browser, server, factory.authority())
        wait_until_live_and_loaded(browser)
        with httpx.Client(base_url=server.url, timeout=30) as api:
            reported = []
            for _ in range(REPORTS_ACROSS_RECONNECTS):
                reported.append(report(api, engine, threat_level="MEDIUM", is_critical=False))
                time.sleep(REPORT_SPACING_S)  # pacing the reports across several streams, not a wait

        for incident_id in reported:
            incident_row(browser, incident_id)
        assert severe_console_entries(browser) == []
    finally:
        leave(browser)
        server.stop()


def _marker_centre(driver: WebDriver, incident_id: str) -> tuple[float, float]:
    """The incident marker's centre, read in one step in the page (a live re-render replaces markers)."""
    centre: list[str] = driver.execute_script(
        "const m = document.querySelector(`#map circle.incident[data-incident-id='${arguments[0]}']`);"
        "return m ? [m.getAttribute('cx'), m.getAttribute('cy')] : ['nan', 'nan'];",
        incident_id,
    )
    return float(centre[0]), float(centre[1])


def _on_map(point: tuple[float, float]) -> bool:
    return 0 <= point[0] <= 800 and 0 <= point[1] <= 500


def test_selecting_an_incident_brings_the_map_to_it_and_fit_shows_every_city(
    browser: WebDriver, live_server: LiveServer, factory: Factory
) -> None:
    engine = factory.engine_key()
    delhi = report(factory.client, engine, latitude=28.6139, longitude=77.2090)
    paris = report(factory.client, engine, latitude=48.8566, longitude=2.3522)
    log_in(browser, live_server, factory.authority())
    wait(browser).until(
        lambda d: len(d.find_elements(By.CSS_SELECTOR, "#map circle.incident[data-incident-id]")) == 2
    )
    assert _on_map(_marker_centre(browser, delhi)) and _on_map(_marker_centre(browser, paris))

    click_row(browser, delhi)
    wait(browser).until(lambda d: _marker_centre(d, delhi) == (400.0, 250.0))
    assert not _on_map(_marker_centre(browser, paris)), "zoomed to the street, the other city is off the map"

    browser.find_element(By.ID, "map-fit").click()
    wait(browser).until(lambda d: _on_map(_marker_centre(d, paris)))
    assert _on_map(_marker_centre(browser, delhi))
    assert severe_console_entries(browser) == []


@pytest.mark.parametrize("settings_overrides", [ONE_CLIENT_UNLIMITED])
def test_a_burst_of_live_incidents_is_drawn_in_a_few_renders(
    browser: WebDriver, live_server: LiveServer, factory: Factory
) -> None:
    engine = factory.engine_key()
    log_in(browser, live_server, factory.authority())
    wait_until_live_and_loaded(browser)
    browser.execute_script(
        "window.listRenders = 0;"
        "new MutationObserver((records) => { window.listRenders += records.length; })"
        ".observe(document.getElementById('incident-list'), { childList: true });"
    )
    burst = 60
    with httpx.Client(base_url=live_server.url, timeout=30) as api:
        for _ in range(burst):
            report(api, engine, threat_level="MEDIUM", is_critical=False, weapon_detected=False,
                   weapon_types=[], latitude=48.86, longitude=2.36)  # fmt: skip

    wait(browser).until(
        ec.text_to_be_present_in_element((By.ID, "incident-count"), f"{burst} open · {burst} listed")
    )
    rows = browser.find_elements(By.CSS_SELECTOR, "#incident-list tr[data-incident-id]")
    assert len(rows) == 25, "a page of the list, never the whole night"
    renders: int = browser.execute_script("return window.listRenders;")
    assert renders <= burst // 4, f"{renders} renders of the list for {burst} live events"
    assert severe_console_entries(browser) == []
