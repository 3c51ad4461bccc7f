"""The tourist app in a real headless Chromium against a live server, the phone's position given through
the DevTools protocol: what a tourist relies on."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from selenium.webdriver import Chrome as WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from safesphere.core import clock
from tests.app.conftest import ONLINE
from tests.factories import PASSWORD, Factory
from tests.support.artifacts import save_screenshot
from tests.support.browser import severe_console_entries
from tests.support.live import LiveServer
from tests.tracking.fixtures import SPOT, camera_sees_threat, restricted_zone_here

WAIT_S = 20.0
OFFLINE = {**ONLINE, "offline": True}


def wait(driver: WebDriver) -> WebDriverWait[WebDriver]:
    return WebDriverWait(driver, WAIT_S)


def _refreshed(driver: WebDriver) -> bool:
    """Reload the page (a service worker controls a page only from its next load); not done yet."""
    driver.refresh()
    return False


def place_phone(driver: WebDriver, server: LiveServer, lat: float, lon: float) -> None:
    """The page may read its position, and the position is (lat, lon) to 8 m."""
    driver.execute_cdp_cmd("Browser.grantPermissions", {"origin": server.url, "permissions": ["geolocation"]})
    driver.execute_cdp_cmd(
        "Emulation.setGeolocationOverride", {"latitude": lat, "longitude": lon, "accuracy": 8}
    )


def text(driver: WebDriver, element_id: str) -> str:
    return str(driver.find_element(By.ID, element_id).text)


def count(driver: WebDriver, selector: str) -> int:
    return len(driver.find_elements(By.CSS_SELECTOR, selector))


def register_in_the_app(driver: WebDriver, server: LiveServer, email: str) -> None:
    driver.get(f"{server.url}/app")
    wait(driver).until(ec.visibility_of_element_located((By.ID, "login-form")))
    driver.find_element(By.ID, "login-email").send_keys(email)
    driver.find_element(By.ID, "login-password").send_keys(PASSWORD)
    driver.find_element(By.ID, "register-submit").click()
    wait(driver).until(ec.visibility_of_element_located((By.ID, "app-view")))


def wait_until_scored(driver: WebDriver) -> None:
    wait(driver).until(lambda d: d.find_element(By.ID, "score-badge").get_attribute("data-risk") != "unknown")


def sos_alerts(factory: Factory) -> list[dict[str, Any]]:
    officer = factory.authority()
    response = factory.client.get("/alerts", params={"type": "sos"}, headers=officer.headers)
    assert response.status_code == 200, response.text
    return list(response.json())


def test_a_tourist_sees_score_trend_and_map_with_a_warning_and_sends_an_sos(
    browser: WebDriver, live_server: LiveServer, factory: Factory
) -> None:
    officer = factory.authority()
    restricted_zone_here(factory.client, officer)
    camera_sees_threat(factory.client, factory, clock.now() - timedelta(minutes=20), lat=SPOT[0] + 0.004)
    place_phone(browser, live_server, *SPOT)

    register_in_the_app(browser, live_server, "ana@example.com")

    # The first fix is sent at once and scored: badge, six factors in words, recommendations.
    wait(browser).until(
        lambda d: d.find_element(By.ID, "score-badge").get_attribute("data-risk") != "unknown"
    )
    risk = browser.find_element(By.ID, "score-badge").get_attribute("data-risk")
    assert risk in {"low", "medium", "high", "critical"}
    assert text(browser, "score-value").isdigit()
    assert text(browser, "score-risk").lower() == f"{risk} risk"
    assert count(browser, "#factors li[data-factor]") == 6
    assert "Zones" in text(browser, "factors")
    assert count(browser, "#recommendations li") >= 1
    # The trend has the fix, with its statistics.
    wait(browser).until(lambda d: d.find_element(By.ID, "trend").get_attribute("data-points") == "1")
    assert "Average" in text(browser, "trend-stats")
    # The map: the zone around the tourist, the camera's alert, and a warning saying where they are.
    wait(browser).until(lambda d: count(d, "#map circle.zone-restricted.inside") == 1)
    assert count(browser, "#map circle.alert") >= 1
    assert count(browser, "#map circle.me") == 1
    assert browser.find_element(By.ID, "zone-warning").is_displayed()
    assert "Construction Site" in text(browser, "zone-warning")
    save_screenshot(browser, "app-score-trend-map")

    # SOS: confirm, then it goes with the phone's current position.
    place_phone(browser, live_server, SPOT[0] + 0.001, SPOT[1] + 0.001)
    browser.find_element(By.ID, "sos").click()
    wait(browser).until(ec.alert_is_present()).accept()
    wait(browser).until(ec.text_to_be_present_in_element((By.ID, "sos-status"), "SOS sent"))
    save_screenshot(browser, "app-sos-sent")
    alert_id = browser.find_element(By.ID, "sos-status").get_attribute("data-alert-id")
    (sos,) = sos_alerts(factory)
    assert str(sos["alert_id"]) == alert_id
    assert sos["location"] == {"lat": SPOT[0] + 0.001, "lon": SPOT[1] + 0.001}
    assert severe_console_entries(browser) == []


def test_dismissing_the_confirmation_sends_no_sos(
    browser: WebDriver, live_server: LiveServer, factory: Factory
) -> None:
    place_phone(browser, live_server, *SPOT)
    register_in_the_app(browser, live_server, "ben@example.com")
    wait(browser).until(
        lambda d: d.find_element(By.ID, "score-badge").get_attribute("data-risk") != "unknown"
    )

    browser.find_element(By.ID, "sos").click()
    wait(browser).until(ec.alert_is_present()).dismiss()

    assert text(browser, "sos-status") == ""
    assert sos_alerts(factory) == []


def test_an_officer_is_sent_to_the_dashboard_and_a_wrong_password_is_named(
    browser: WebDriver, live_server: LiveServer, factory: Factory
) -> None:
    officer = factory.authority()
    browser.get(f"{live_server.url}/app/")
    wait(browser).until(ec.visibility_of_element_located((By.ID, "login-form")))
    browser.find_element(By.ID, "login-email").send_keys(officer.user.email)
    browser.find_element(By.ID, "login-password").send_keys(PASSWORD)
    browser.find_element(By.ID, "login-submit").click()
    wait(browser).until(ec.text_to_be_present_in_element((By.ID, "login-message"), "/dashboard"))
    assert not browser.find_element(By.ID, "app-view").is_displayed()
    assert browser.execute_script("return window.sessionStorage.length;") == 0


def test_the_app_opens_offline_once_it_has_been_loaded(
    browser: WebDriver, live_server: LiveServer, factory: Factory
) -> None:
    browser.get(f"{live_server.url}/app/")
    wait(browser).until(
        lambda d: d.execute_script("return !!navigator.serviceWorker.controller;") or _refreshed(d)
    )
    browser.execute_cdp_cmd("Network.enable", {})
    browser.execute_cdp_cmd("Network.emulateNetworkConditions", OFFLINE)
    live_server.stop()

    browser.get(f"{live_server.url}/app/")

    wait(browser).until(ec.visibility_of_element_located((By.ID, "login-form")))
    # The styles came from the cache too.
    assert (
        browser.execute_script("return getComputedStyle(document.querySelector('.badge')).display;") == "flex"
    )
    save_screenshot(browser, "app-offline")
    live_server.start()
