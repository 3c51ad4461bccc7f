"""Driving the dashboard page: logging in, and reading and clicking what live renders keep replacing.

A live render replaces rows, list items and markers, so reads happen in one step in the page
(``execute_script``) and clicks are retried on a node that went stale between finding and clicking it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from fastapi.testclient import TestClient
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver import Chrome as WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select, WebDriverWait

from tests.factories import PASSWORD, Account, EngineCredentials, Factory
from tests.incidents.reports import report_body
from tests.support.live import LiveServer

WAIT_S = 20.0
"""Generous: a loaded CI machine, a PostgreSQL backend and a 1 s live poll all fit comfortably."""


def wait(driver: WebDriver) -> WebDriverWait[WebDriver]:
    return WebDriverWait(driver, WAIT_S)


def session_storage(driver: WebDriver) -> dict[str, str]:
    stored: dict[str, str] = driver.execute_script("return Object.assign({}, window.sessionStorage);")
    return stored


def log_in(driver: WebDriver, server: LiveServer, account: Account) -> None:
    driver.get(f"{server.url}/dashboard")
    wait(driver).until(ec.visibility_of_element_located((By.ID, "login-form")))
    driver.find_element(By.ID, "login-email").send_keys(account.user.email)
    driver.find_element(By.ID, "login-password").send_keys(PASSWORD)
    driver.find_element(By.ID, "login-submit").click()


def leave(driver: WebDriver) -> None:
    """Log out (ending the stream: uvicorn's shutdown waits for open streams) and leave for a blank page,
    so nothing still reconnects to a stopped server."""
    driver.execute_script(
        "const logout = document.getElementById('logout'); if (logout && !logout.hidden) logout.click();"
    )
    driver.get("about:blank")


def wait_until_live_and_loaded(driver: WebDriver) -> None:
    """The stream says hello and the incident list's first page is drawn."""
    wait(driver).until(
        ec.text_to_be_present_in_element_attribute((By.ID, "live-status"), "data-state", "live")
    )
    wait(driver).until(
        ec.presence_of_element_located((By.CSS_SELECTOR, '#incident-list[data-loaded="true"]'))
    )


def incident_row(driver: WebDriver, incident_id: str) -> WebElement:
    locator = (By.CSS_SELECTOR, f'#incident-list tr[data-incident-id="{incident_id}"]')
    row: WebElement = wait(driver).until(ec.presence_of_element_located(locator))
    return row


def attribute(driver: WebDriver, selector: str, name: str) -> str | None:
    """An attribute of the first node matching ``selector``, read in one step (None: no such node)."""
    value: str | None = driver.execute_script(
        "const node = document.querySelector(arguments[0]);"
        "return node ? node.getAttribute(arguments[1]) : null;",
        selector,
        name,
    )
    return value


def row_attribute(driver: WebDriver, incident_id: str, name: str) -> str:
    """An attribute of the incident's row once it is there."""
    incident_row(driver, incident_id)
    return attribute(driver, f'#incident-list tr[data-incident-id="{incident_id}"]', name) or ""


def click(driver: WebDriver, selector: str) -> None:
    """Click the node once it is there and enabled; a live render can replace it between finding and
    clicking, so a stale or vanished node is looked up again."""

    def clicked(d: WebDriver) -> bool:
        node = d.find_element(By.CSS_SELECTOR, selector)
        if not node.is_enabled():
            return False
        node.click()
        return True

    WebDriverWait(
        driver, WAIT_S, ignored_exceptions=[StaleElementReferenceException, NoSuchElementException]
    ).until(clicked)


def click_row(driver: WebDriver, incident_id: str) -> None:
    click(driver, f'#incident-list tr[data-incident-id="{incident_id}"]')


def report(client: TestClient | httpx.Client, engine: EngineCredentials, **overrides: Any) -> str:
    response = client.post("/threats/report", json=report_body(**overrides), headers=engine.headers)
    assert response.status_code == 200, response.text
    incident_id: str = response.json()["incident_id"]
    return incident_id


def open_high_incident(driver: WebDriver, server: LiveServer, factory: Factory, officer: Account) -> str:
    """A HIGH incident reported, the officer logged in and its detail open; returns its id."""
    incident_id = report(factory.client, factory.engine_key(), threat_level="HIGH", is_critical=False)
    log_in(driver, server, officer)
    click_row(driver, incident_id)
    detail = (By.CSS_SELECTOR, f'#incident-detail[data-incident-id="{incident_id}"]')
    wait(driver).until(ec.visibility_of_element_located(detail))
    return incident_id


def register_unit(factory: Factory, officer: Account, name: str, **fields: Any) -> int:
    """A unit in the registry (a patrol car unless ``fields`` say otherwise); returns its id."""
    body = {"name": name, "type": "patrol_car", **fields}
    created = factory.client.post("/units", json=body, headers=officer.headers)
    assert created.status_code == 201, created.text
    unit_id: int = created.json()["id"]
    return unit_id


def pick_unit(driver: WebDriver, unit_id: int) -> None:
    """Chooses the unit in the detail's dispatch picker once the units panel has offered it."""
    option = (By.CSS_SELECTOR, f'#dispatch-unit option[value="{unit_id}"]')
    wait(driver).until(ec.presence_of_element_located(option))
    Select(driver.find_element(By.ID, "dispatch-unit")).select_by_value(str(unit_id))


ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "dashboard"
"""Screenshots of each view, for a reviewer (ignored by git; CI may keep the folder)."""


def screenshot(driver: WebDriver, name: str) -> Path:
    """Saves the page as ``test-artifacts/dashboard/<name>.png`` and returns the path."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    driver.get_screenshot_as_file(str(path))
    return path
