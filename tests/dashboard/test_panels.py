"""The map, the incident detail and the open-alerts panel in a real browser, each move checked in the API."""

from __future__ import annotations

import io
import math
from typing import Any

import httpx
from PIL import Image
from selenium.webdriver import Chrome as WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select

from safesphere.core import clock
from tests.dashboard.page import (
    attribute,
    click,
    click_row,
    log_in,
    open_high_incident,
    pick_unit,
    register_unit,
    report,
    row_attribute,
    wait,
    wait_until_live_and_loaded,
)
from tests.factories import Account, Factory
from tests.support.browser import severe_console_entries
from tests.support.live import LiveServer
from tests.tracking.fixtures import send_fix

KM_PER_DEG_LAT = 111.32
ZONE_CENTRE = (48.8566, 2.3522)
ZONE_RADIUS_KM = 1.0
INSIDE_EAST_KM = 0.5
OUTSIDE_NORTH_KM = 2.0
RADIUS_TOLERANCE = 0.02
"""Of the zone's radius: cx, cy and r are drawn to 0.1 px, the radius here is ~200 px."""
SCREENSHOT_SIZE = (64, 48)


def _map_circles(driver: WebDriver) -> list[dict[str, Any]]:
    """Every circle of the map in drawing order, read in one step (a live render replaces them)."""
    circles: list[dict[str, Any]] = driver.execute_script(
        "return [...document.querySelectorAll('#map circle')].map((c) => ({"
        "  classes: [...c.classList], tourist: c.getAttribute('data-tourist-id'),"
        "  cx: Number(c.getAttribute('cx')), cy: Number(c.getAttribute('cy')),"
        "  r: Number(c.getAttribute('r')),"
        "}));"
    )
    return circles


def test_a_zone_is_drawn_at_its_radius_and_tourists_at_their_last_fix(
    browser: WebDriver, live_server: LiveServer, factory: Factory
) -> None:
    lat, lon = ZONE_CENTRE
    east_lon = lon + INSIDE_EAST_KM / (KM_PER_DEG_LAT * math.cos(math.radians(lat)))
    north_lat = lat + OUTSIDE_NORTH_KM / KM_PER_DEG_LAT
    inside, outside = factory.tourist(name="Inside"), factory.tourist(name="Outside")
    with httpx.Client(base_url=live_server.url, timeout=30) as api:
        zone = api.post(
            "/zones",
            json={"name": "Old town", "type": "risky", "center": {"lat": lat, "lon": lon},
                  "radius_km": ZONE_RADIUS_KM},
            headers=factory.admin().headers,
        )  # fmt: skip
        assert zone.status_code == 201, zone.text
        send_fix(api, inside, clock.now(), lat=lat + 0.01, lon=lon)  # only the last fix is drawn
        inside_fix = send_fix(api, inside, clock.now(), lat=lat, lon=east_lon)
        outside_fix = send_fix(api, outside, clock.now(), lat=north_lat, lon=lon)
    log_in(browser, live_server, factory.authority())

    def drawn(d: WebDriver) -> list[dict[str, Any]] | None:
        circles = _map_circles(d)
        kinds = [c for c in circles if "zone" in c["classes"] or c["tourist"] is not None]
        return circles if len(kinds) == 3 else None

    circles = wait(browser).until(drawn)
    assert circles is not None
    zones = [c for c in circles if "zone" in c["classes"]]
    assert len(zones) == 1 and "zone-risky" in zones[0]["classes"]
    by_tourist = {c["tourist"]: c for c in circles if c["tourist"] is not None}
    near, far = by_tourist[str(inside.user.id)], by_tourist[str(outside.user.id)]
    assert "tourist" in near["classes"] and f"risk-{inside_fix['risk_level']}" in near["classes"]
    assert f"risk-{outside_fix['risk_level']}" in far["classes"]
    circle = zones[0]

    def from_centre(marker: dict[str, Any]) -> float:
        """A marker's distance from the zone's centre, in zone radii."""
        return float(math.hypot(marker["cx"] - circle["cx"], marker["cy"] - circle["cy"]) / circle["r"])

    assert abs(from_centre(near) - INSIDE_EAST_KM / ZONE_RADIUS_KM) < RADIUS_TOLERANCE
    assert near["cx"] > circle["cx"] and abs(near["cy"] - circle["cy"]) < 1, "due east of the centre"
    assert abs(from_centre(far) - OUTSIDE_NORTH_KM / ZONE_RADIUS_KM) < RADIUS_TOLERANCE
    assert far["cy"] < circle["cy"] and abs(far["cx"] - circle["cx"]) < 1, "due north, up on the map"
    assert circles.index(circle) < circles.index(near), "tourists are drawn over the zone"
    assert severe_console_entries(browser) == []


def _png(size: tuple[int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, "PNG")
    return buffer.getvalue()


def test_an_engine_screenshot_shows_decoded_in_the_incident_detail(
    browser: WebDriver, live_server: LiveServer, factory: Factory
) -> None:
    engine = factory.engine_key()
    with httpx.Client(base_url=live_server.url, timeout=30) as api:
        incident_id = report(api, engine, threat_level="HIGH", is_critical=False)
        uploaded = api.post(
            "/upload/screenshot",
            data={"incident_id": incident_id},
            files={"file": ("frame-0042.png", _png(SCREENSHOT_SIZE), "image/png")},
            headers=engine.headers,
        )
    assert uploaded.status_code == 200, uploaded.text
    evidence_id = uploaded.json()["evidence"]["evidence_id"]
    log_in(browser, live_server, factory.authority())
    click_row(browser, incident_id)

    def decoded(d: WebDriver) -> dict[str, Any] | None:
        image: dict[str, Any] | None = d.execute_script(
            "const img = document.querySelector("
            "  `#detail-evidence figure[data-evidence-id='${arguments[0]}'] img`);"
            "return img && img.complete && img.naturalWidth > 0"
            "  ? { src: img.src, width: img.naturalWidth, height: img.naturalHeight, alt: img.alt } : null;",
            evidence_id,
        )
        return image

    image = wait(browser).until(decoded)
    assert image is not None
    assert image["src"].startswith("blob:")
    assert (image["width"], image["height"]) == SCREENSHOT_SIZE
    assert image["alt"] == "frame-0042.png"
    assert severe_console_entries(browser) == []


def _alert(api: httpx.Client, officer: Account, alert_id: int, status: str) -> dict[str, Any] | None:
    """The alert as ``GET /alerts?status=...`` lists it, or None if it is not in that list."""
    listed = api.get("/alerts", params={"status": status, "limit": 1000}, headers=officer.headers)
    assert listed.status_code == 200, listed.text
    return next((a for a in listed.json() if a["alert_id"] == alert_id), None)


def test_a_tourist_sos_appears_live_and_is_acknowledged_then_resolved_from_the_panel(
    browser: WebDriver, live_server: LiveServer, factory: Factory
) -> None:
    officer, tourist = factory.authority(), factory.tourist(name="Ana")
    log_in(browser, live_server, officer)
    wait_until_live_and_loaded(browser)
    with httpx.Client(base_url=live_server.url, timeout=30) as api:
        sos = api.post("/sos", json={"lat": 41.39, "lon": 2.17, "message": "help"}, headers=tourist.headers)
        assert sos.status_code == 201, sos.text
        alert_id = sos.json()["alert_id"]
        item = f'#alert-list li[data-alert-id="{alert_id}"]'
        wait(browser).until(ec.presence_of_element_located((By.CSS_SELECTOR, f'{item}[data-type="sos"]')))
        marker = f'#map circle.alert[data-alert-id="{alert_id}"]'
        wait(browser).until(ec.presence_of_element_located((By.CSS_SELECTOR, marker)))

        click(browser, f'{item} button[data-action="acknowledge"]')
        wait(browser).until(lambda _: _alert(api, officer, alert_id, "acknowledged") is not None)
        acknowledged = _alert(api, officer, alert_id, "acknowledged")
        assert acknowledged is not None and acknowledged["acknowledged_by"] == officer.user.id
        # Acknowledged is not resolved: the alert stays in the panel, only its Acknowledge is spent.
        wait(browser).until(lambda d: attribute(d, item, "data-status") == "acknowledged")
        assert attribute(browser, f'{item} button[data-action="acknowledge"]', "disabled") is not None

        click(browser, f'{item} button[data-action="resolve"]')
        wait(browser).until(lambda _: _alert(api, officer, alert_id, "resolved") is not None)
        resolved = _alert(api, officer, alert_id, "resolved")
        assert resolved is not None and resolved["resolved_by"] == officer.user.id
        assert _alert(api, officer, alert_id, "open") is None
        assert _alert(api, officer, alert_id, "acknowledged") is None
    wait(browser).until(lambda d: attribute(d, item, "data-alert-id") is None)
    assert attribute(browser, marker, "class") is None
    assert severe_console_entries(browser) == []


def _timeline(factory: Factory, officer: Account, incident_id: str) -> list[dict[str, Any]]:
    response = factory.client.get(f"/incidents/{incident_id}/timeline", headers=officer.headers)
    assert response.status_code == 200, response.text
    entries: list[dict[str, Any]] = response.json()["entries"]
    return entries


def _shown_timeline(driver: WebDriver) -> str:
    text: str = driver.execute_script("return document.getElementById('detail-timeline').textContent;")
    return text


def test_dispatch_note_and_resolve_from_the_detail_reach_the_api_and_the_timeline(
    browser: WebDriver, live_server: LiveServer, factory: Factory
) -> None:
    officer = factory.authority()
    unit_id = register_unit(factory, officer, "Patrol 12")
    incident_id = open_high_incident(browser, live_server, factory, officer)

    pick_unit(browser, unit_id)
    click(browser, '#incident-detail button[data-action="dispatch"]')
    wait(browser).until(lambda d: row_attribute(d, incident_id, "data-status") == "dispatched")
    dispatched = [e for e in _timeline(factory, officer, incident_id) if e["kind"] == "dispatched"]
    assert [(e["actor_id"], e["details"]["unit"]) for e in dispatched] == [(officer.user.id, "Patrol 12")]
    wait(browser).until(lambda d: f"Unit Patrol 12 dispatched by {officer.user.email}" in _shown_timeline(d))

    browser.find_element(By.ID, "note-text").send_keys("Suspect left northbound on foot")
    click(browser, '#incident-detail button[data-action="note"]')
    wait(browser).until(ec.text_to_be_present_in_element((By.ID, "action-message"), "Note added."))
    notes = [e for e in _timeline(factory, officer, incident_id) if e["kind"] == "note"]
    assert [(e["actor_id"], e["details"]["text"]) for e in notes] == [
        (officer.user.id, "Suspect left northbound on foot")
    ]
    wait(browser).until(
        lambda d: f"Note by {officer.user.email}: Suspect left northbound on foot" in _shown_timeline(d)
    )
    assert browser.find_element(By.ID, "note-text").get_attribute("value") == ""

    Select(browser.find_element(By.ID, "resolve-outcome")).select_by_value("resolved")
    click(browser, '#incident-detail button[data-action="resolve"]')
    wait(browser).until(lambda d: row_attribute(d, incident_id, "data-status") == "resolved")
    stored = factory.client.get(f"/incidents/{incident_id}", headers=officer.headers).json()
    assert stored["status"] == "resolved"
    assert [e["actor_id"] for e in _timeline(factory, officer, incident_id) if e["kind"] == "resolved"] == [
        officer.user.id
    ]
    wait(browser).until(lambda d: attribute(d, "#incident-detail", "data-status") == "resolved")
    assert f"Resolved by {officer.user.email}" in _shown_timeline(browser)
    for action in ("acknowledge", "dispatch", "resolve"):
        button = f'#incident-detail button[data-action="{action}"]'
        assert attribute(browser, button, "disabled") is not None, f"{action} is spent once resolved"
    assert severe_console_entries(browser) == []
