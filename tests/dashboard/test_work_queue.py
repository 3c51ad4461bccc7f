"""A busy night in a real browser: the work queue, the first map view, statistics, the timeline in words."""

from __future__ import annotations

import math
from typing import Any

import httpx
from selenium.webdriver import Chrome as WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec

from safesphere.core import clock
from tests.dashboard.page import (
    attribute,
    click,
    click_row,
    log_in,
    report,
    screenshot,
    wait,
    wait_until_live_and_loaded,
)
from tests.factories import Account, Factory
from tests.support.browser import severe_console_entries
from tests.support.live import LiveServer
from tests.tracking.fixtures import send_fix

CENTRE = (48.8566, 2.3522)
TOURISTS = 10
INCIDENTS = 5
"""Each HIGH incident warns every one of the ten tourists nearby: 50 warnings."""
SOS_COUNT = 5
MAP_W, MAP_H = 800, 500


def _near(index: int) -> tuple[float, float]:
    """A point a few hundred metres from the centre (well inside the 1 km warning radius)."""
    return CENTRE[0] + 0.001 * (index % 4), CENTRE[1] + 0.001 * (index // 4)


def _busy_night(api: httpx.Client, factory: Factory) -> tuple[list[Account], list[str], list[int]]:
    tourists = [factory.tourist(name=f"Tourist {n}") for n in range(TOURISTS)]
    for n, tourist in enumerate(tourists):
        lat, lon = _near(n)
        send_fix(api, tourist, clock.now(), lat=lat, lon=lon, accuracy=12.0)
    profile = api.put("/me/profile", json={"phone": "+33 6 12 34 56 78"}, headers=tourists[0].headers)
    assert profile.status_code == 200, profile.text
    incidents = []
    for n in range(INCIDENTS):  # one camera each, so no report groups into another
        lat, lon = _near(n)
        incidents.append(report(api, factory.engine_key(), threat_level="HIGH", is_critical=False,
                                latitude=lat, longitude=lon))  # fmt: skip
    sos = []
    for tourist in tourists[:SOS_COUNT]:
        raised = api.post("/sos", json={"message": "help"}, headers=tourist.headers)
        assert raised.status_code == 201, raised.text
        sos.append(raised.json()["alert_id"])
    return tourists, incidents, sos


def _queue(driver: WebDriver) -> list[dict[str, Any]]:
    cards: list[dict[str, Any]] = driver.execute_script(
        "return [...document.querySelectorAll('#alert-list li[data-alert-id]')].map((li) => ({"
        "  id: Number(li.dataset.alertId), type: li.dataset.type,"
        "  person: li.querySelector('dl.person') ? li.querySelector('dl.person').textContent : ''}));"
    )
    return cards


def test_fifty_warnings_and_five_sos_show_five_sos_cards_and_the_incidents(
    browser: WebDriver, live_server: LiveServer, factory: Factory
) -> None:
    officer = factory.authority()
    with httpx.Client(base_url=live_server.url, timeout=30) as api:
        tourists, incidents, sos = _busy_night(api, factory)
        warnings = api.get("/alerts", params={"type": "warning", "limit": 1000}, headers=officer.headers)
    assert len(warnings.json()) == TOURISTS * INCIDENTS, "the night really sent 50 warnings"
    log_in(browser, live_server, officer)
    wait_until_live_and_loaded(browser)
    wait(browser).until(
        lambda d: len(_queue(d)) == SOS_COUNT and all("±12 m" in c["person"] for c in _queue(d))
    )

    cards = _queue(browser)
    assert sorted(c["id"] for c in cards) == sorted(sos) and {c["type"] for c in cards} == {"sos"}
    assert browser.find_element(By.ID, "queue-count").text == "5 SOS · 0 anomaly"
    first = next(c for c in cards if c["id"] == sos[0])
    assert "Tourist 0" in first["person"] and "+33 6 12 34 56 78" in first["person"]
    rows = browser.find_elements(By.CSS_SELECTOR, "#incident-list tr[data-incident-id]")
    assert sorted(str(r.get_attribute("data-incident-id")) for r in rows) == sorted(incidents)
    assert browser.find_element(By.ID, "incident-count").text == "5 open · 5 listed"
    height = browser.execute_script("return document.documentElement.scrollHeight;")
    screenshot(browser, "work-queue")

    click(browser, f'#alert-list li[data-alert-id="{sos[0]}"] button[data-action="locate"]')
    wait(browser).until(lambda d: attribute(d, "#map", "data-located") == str(sos[0]))
    tourist_marker = f'#map circle.tourist[data-tourist-id="{tourists[0].user.id}"]'
    centre = (
        float(attribute(browser, tourist_marker, "cx") or 0),
        float(attribute(browser, tourist_marker, "cy") or 0),
    )
    assert centre == (MAP_W / 2, MAP_H / 2), "Locate centres the map on the person's last fix"
    assert height < 3000, f"the page stays bounded ({height} px)"
    assert severe_console_entries(browser) == []


def _inside(driver: WebDriver, selector: str) -> bool:
    x, y = float(attribute(driver, selector, "cx") or -1), float(attribute(driver, selector, "cy") or -1)
    return 0 <= x <= MAP_W and 0 <= y <= MAP_H


def test_the_first_view_fits_the_active_incidents_not_every_point_ever_stored(
    browser: WebDriver, live_server: LiveServer, factory: Factory
) -> None:
    officer = factory.authority()
    with httpx.Client(base_url=live_server.url, timeout=30) as api:
        delhi = report(api, factory.engine_key(), latitude=28.6139, longitude=77.2090)
        closed = api.post(
            f"/incidents/{delhi}/resolve", json={"outcome": "resolved"}, headers=officer.headers
        )
        assert closed.status_code == 200, closed.text
        paris = [report(api, factory.engine_key(), latitude=lat, longitude=lon) for lat, lon in
                 ((48.8566, 2.3522), (48.8606, 2.3376))]  # fmt: skip
    log_in(browser, live_server, officer)
    wait_until_live_and_loaded(browser)
    marker = '#map circle.incident[data-incident-id="{}"]'
    wait(browser).until(lambda d: all(attribute(d, marker.format(i), "cx") for i in (*paris, delhi)))

    assert all(_inside(browser, marker.format(i)) for i in paris), "the first view holds the active incidents"
    assert not _inside(browser, marker.format(delhi)), "a closed incident in another city does not stretch it"
    km = float(attribute(browser, "#map .scale-bar", "data-km") or 0)
    assert 0.1 <= km <= 1, f"street scale: the two incidents are 1.1 km apart, the bar says {km} km"
    legend = browser.execute_script(
        "return [...document.querySelectorAll('#map-legend li')].map((li) => li.textContent.trim());"
    )
    for symbol in (
        "critical incident",
        "SOS / anomaly, open",
        "tourist (last fix)",
        "risky zone",
        "scale bar",
    ):
        assert symbol in legend
    screenshot(browser, "map")
    assert severe_console_entries(browser) == []


def _format_ms(value: int) -> str:
    """The page's own wording of a duration."""
    if value < 1000:
        return f"{value} ms"
    return f"{value / 1000:.1f} s" if value < 60000 else f"{round(value / 60000)} min"


def test_statistics_match_the_api_and_the_timeline_reads_in_words(
    browser: WebDriver, live_server: LiveServer, factory: Factory
) -> None:
    officer = factory.authority(email="officer@example.com")
    with httpx.Client(base_url=live_server.url, timeout=30) as api:
        incident_id = report(api, factory.engine_key(), threat_level="HIGH", is_critical=False,
                             latitude=CENTRE[0], longitude=CENTRE[1])  # fmt: skip

        def notified(_: object) -> dict[str, Any] | None:
            body = api.get("/statistics", headers=officer.headers).json()["response_analytics"]
            return body if body["time_to_notify_p50_ms"] is not None else None

        analytics = wait(browser).until(notified)
        assert analytics is not None
        acknowledged = api.post(f"/incidents/{incident_id}/acknowledge", headers=officer.headers)
        assert acknowledged.status_code == 200, acknowledged.text
    log_in(browser, live_server, officer)
    p50, p95 = analytics["time_to_notify_p50_ms"], analytics["time_to_notify_p95_ms"]
    expected = f"{_format_ms(p50)} / {_format_ms(p95)}"
    wait(browser).until(ec.text_to_be_present_in_element((By.ID, "stats-notify"), expected))
    assert math.isclose(p50, p50) and "0.0 s" not in browser.find_element(By.ID, "stats-notify").text

    click_row(browser, incident_id)
    wait(browser).until(
        ec.text_to_be_present_in_element((By.ID, "detail-timeline"), "Acknowledged by officer@example.com")
    )
    timeline = browser.find_element(By.ID, "detail-timeline").text
    assert "Reported as HIGH" in timeline
    assert "Police paged by " in timeline and "delivered in " in timeline, timeline
    assert "delivery_id" not in timeline and "actions_executed" not in timeline
    row_status = browser.find_element(
        By.CSS_SELECTOR, f'#incident-list tr[data-incident-id="{incident_id}"] td.status'
    )
    assert row_status.text == "Acknowledged"
    screenshot(browser, "incident-detail")
    assert severe_console_entries(browser) == []
