"""The live-location link sent to emergency contacts opens a readable page in a real phone-sized headless
Chromium: last-seen time and age, accuracy, the track drawn locally, self-refreshing, under a strict CSP
that loads nothing from anywhere; programs still get JSON from the same link."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from selenium.webdriver import Chrome as WebDriver
from selenium.webdriver.common.by import By

from safesphere.core import clock
from tests.factories import Factory
from tests.incidents.reports import report_body
from tests.support.browser import severe_console_entries
from tests.support.live import LiveServer

TRACK = ((48.8570, 2.2930), (48.8577, 2.2938), (48.8584, 2.2945))


def _contacts_link(client: TestClient, factory: Factory) -> str:
    """A protected tourist walks three fixes, their phone reports a HIGH threat; the link the contacts'
    message carries."""
    officer, owner = factory.authority(), factory.tourist()
    contact = {"name": "Ana", "relation": "sister", "phone": "+33600000002", "email": "ana@example.com"}
    assert client.post("/me/contacts", json=contact, headers=owner.headers).status_code == 201
    start = clock.now() - timedelta(seconds=90)
    for step, (lat, lon) in enumerate(TRACK):
        at = (start + timedelta(seconds=30 * step)).isoformat()
        fix = {"lat": lat, "lon": lon, "accuracy": 8.0, "timestamp": at}
        assert client.post("/location/update", json=fix, headers=owner.headers).status_code == 200
    body = report_body(threat_level="HIGH", is_critical=False, latitude=48.8580, longitude=2.2940)
    phone = factory.engine_key(owner=owner)
    assert client.post("/threats/report", json=body, headers=phone.headers).status_code == 200
    rows = client.get("/deliveries", params={"incident_id": body["incident_id"]}, headers=officer.headers)
    contact_rows = [d for d in rows.json()["deliveries"] if d["audience"] == "contact"]
    detail = client.get(f"/deliveries/{contact_rows[0]['id']}", headers=officer.headers).json()
    return str(detail["payload"]["share_url"])


def test_the_contacts_link_renders_as_a_page_in_a_phone_browser(
    client: TestClient, factory: Factory, browser: WebDriver, live_server: LiveServer
) -> None:
    link = _contacts_link(client, factory)
    token = link.rsplit("/", 1)[1]
    browser.set_window_size(390, 844)  # a phone
    try:
        browser.get(f"{live_server.url}/share/{token}")  # the same path the message carries
        assert browser.title == "SafeSphere live location", browser.page_source[:500]
        text = browser.find_element(By.TAG_NAME, "body").text
        assert "Last seen" in text and " ago" in text and "within about 8 m" in text
        assert "48.85840, 2.29450" in text
        svg = browser.find_element(By.CSS_SELECTOR, "svg")
        assert svg.size["width"] > 200  # drawn, and fits the phone's width
        points = browser.find_element(By.CSS_SELECTOR, "polyline").get_attribute("points") or ""
        assert len(points.split()) == 3
        font = browser.execute_script("return getComputedStyle(document.body).fontFamily")
        assert "system-ui" in font  # the inline style is allowed by its hash; nothing else is
        fetched = browser.execute_script("return performance.getEntriesByType('resource').length")
        assert fetched == 0  # no tiles, scripts, fonts or images from anywhere
        refresh = browser.find_element(By.CSS_SELECTOR, 'meta[http-equiv="refresh"]')
        assert refresh.get_attribute("content") == "10"
        assert severe_console_entries(browser) == []  # no CSP violation
    finally:
        browser.set_window_size(1400, 1000)


def test_programs_get_json_and_every_answer_is_uncached_and_locked_down(
    client: TestClient, factory: Factory
) -> None:
    token = _contacts_link(client, factory).rsplit("/", 1)[1]
    as_json = client.get(f"/share/{token}", headers={"Accept": "application/json"})
    assert as_json.json()["latest_fixes"][0]["lat"] == TRACK[-1][0]
    assert client.get(f"/share/{token}").json()["incident_id"]  # */* is a program: JSON
    page = client.get(f"/share/{token}", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert page.headers["content-type"].startswith("text/html") and "<svg" in page.text
    for answer in (as_json, page, client.get(f"/share/{token}/map")):
        assert answer.headers["cache-control"] == "no-store"
        assert answer.headers["referrer-policy"] == "no-referrer"
        assert answer.headers["content-security-policy"].startswith("default-src 'none'; style-src 'sha256-")
        assert "script-src" not in answer.headers["content-security-policy"]
