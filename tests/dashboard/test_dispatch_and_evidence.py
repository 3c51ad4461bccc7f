"""Dispatching a registered unit from the incident detail, the units panel and map following it, and the
detail's case file (grouped reports, evidence) in a real browser, each change checked in the API."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image
from selenium.webdriver import Chrome as WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select

from tests.dashboard.page import (
    attribute,
    click,
    click_row,
    log_in,
    open_high_incident,
    pick_unit,
    register_unit,
    report,
    screenshot,
    wait,
)
from tests.factories import Factory
from tests.support.browser import severe_console_entries
from tests.support.live import LiveServer


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    """Repeats of one camera within two minutes are grouped under its open case."""
    return {"grouping_window_s": 120}


def _unit_status(driver: WebDriver, unit_id: int) -> str | None:
    return attribute(driver, f'#unit-list tr[data-unit-id="{unit_id}"]', "data-status")


def test_a_unit_dispatched_from_the_detail_is_dispatched_until_the_incident_is_resolved(
    browser: WebDriver, live_server: LiveServer, factory: Factory
) -> None:
    officer = factory.authority()
    unit_id = register_unit(factory, officer, "Patrol 12", position={"lat": 48.8566, "lon": 2.3522})
    incident_id = open_high_incident(browser, live_server, factory, officer)
    wait(browser).until(lambda d: _unit_status(d, unit_id) == "available")
    pick_unit(browser, unit_id)
    click(browser, '#incident-detail button[data-action="dispatch"]')

    wait(browser).until(lambda d: _unit_status(d, unit_id) == "dispatched")
    on = attribute(
        browser, f'#unit-list tr[data-unit-id="{unit_id}"] button[data-incident-id]', "data-incident-id"
    )
    assert on == incident_id
    square = f'#map rect.unit[data-unit-id="{unit_id}"]'
    wait(browser).until(lambda d: "status-dispatched" in (attribute(d, square, "class") or ""))
    wait(browser).until(ec.text_to_be_present_in_element((By.ID, "detail-facts"), "Patrol 12"))
    api_unit = factory.client.get(f"/units/{unit_id}", headers=officer.headers).json()
    assert (api_unit["status"], api_unit["incident_ids"]) == ("dispatched", [incident_id])
    incident = factory.client.get(f"/incidents/{incident_id}", headers=officer.headers).json()
    assert (incident["status"], incident["dispatch_unit"]) == ("dispatched", "Patrol 12")
    screenshot(browser, "units-dispatched")

    Select(browser.find_element(By.ID, "resolve-outcome")).select_by_value("resolved")
    click(browser, '#incident-detail button[data-action="resolve"]')
    wait(browser).until(lambda d: _unit_status(d, unit_id) == "available")
    assert factory.client.get(f"/units/{unit_id}", headers=officer.headers).json()["status"] == "available"
    assert severe_console_entries(browser) == []


def test_the_detail_lists_a_case_s_grouped_reports_and_a_report_links_its_case(
    browser: WebDriver, live_server: LiveServer, factory: Factory
) -> None:
    officer, camera = factory.authority(), factory.engine_key()
    case = report(factory.client, camera, threat_level="HIGH", is_critical=False)
    repeat = report(factory.client, camera, threat_level="MEDIUM", is_critical=False, threat_score=0.55)
    stored = factory.client.get(f"/incidents/{case}", headers=officer.headers).json()
    assert [r["incident_id"] for r in stored["grouped_reports"]] == [repeat]
    log_in(browser, live_server, officer)
    click_row(browser, case)

    listed = f'#detail-grouped li[data-incident-id="{repeat}"]'
    wait(browser).until(ec.visibility_of_element_located((By.CSS_SELECTOR, listed)))
    assert "MEDIUM · score 0.55" in browser.find_element(By.CSS_SELECTOR, listed).text
    assert browser.find_element(By.ID, "detail-grouped-title").text == "Grouped reports (1)"
    screenshot(browser, "case-grouped-reports")
    click(browser, f'{listed} button[data-incident-id="{repeat}"]')
    wait(browser).until(lambda d: attribute(d, "#incident-detail", "data-incident-id") == repeat)
    back = f'#detail-grouped li.grouped-into[data-incident-id="{case}"]'
    wait(browser).until(ec.visibility_of_element_located((By.CSS_SELECTOR, back)))
    assert severe_console_entries(browser) == []


CLIP = (Path(__file__).parents[1] / "evidence" / "clips" / "clip.webm").read_bytes()
"""One second of VP8 WebM recorded by Chromium's MediaRecorder (tests/evidence/clips/make_clips.py)."""


def test_an_engine_clip_plays_in_the_detail_and_an_image_opens_full_size(
    browser: WebDriver, live_server: LiveServer, factory: Factory
) -> None:
    engine = factory.engine_key()
    incident_id = report(factory.client, engine, threat_level="HIGH", is_critical=False)
    frame = io.BytesIO()
    Image.new("RGB", (1600, 1200), (30, 90, 200)).save(frame, "PNG")
    ids = []
    for path, name, content in (
        ("/upload/clip", "cam.webm", CLIP),
        ("/upload/screenshot", "f.png", frame.getvalue()),
    ):
        uploaded = factory.client.post(
            path, data={"incident_id": incident_id}, files={"file": (name, content)}, headers=engine.headers
        )
        assert uploaded.status_code == 200, uploaded.text
        ids.append(uploaded.json()["evidence"]["evidence_id"])
    clip_id, image_id = ids
    officer = factory.authority()
    log_in(browser, live_server, officer)
    click_row(browser, incident_id)

    video = f"#detail-evidence figure[data-evidence-id='{clip_id}'] video"
    wait(browser).until(
        lambda d: d.execute_script(
            f'const v = document.querySelector("{video}"); return v && v.readyState >= 2;'
        )
    )
    started = browser.execute_script(
        f'const v = document.querySelector("{video}"); v.muted = true; v.play(); return v.currentTime;'
    )
    wait(browser).until(
        lambda d: d.execute_script(f'return document.querySelector("{video}").currentTime;') > started + 0.2
    )
    assert browser.execute_script(f'return document.querySelector("{video}").src;').startswith("blob:")
    screenshot(browser, "evidence-clip")

    # A live change of the incident draws its detail again; the clip being watched stays the same element
    # (not reset to a new, paused one) and no evidence is downloaded twice.
    watched = browser.execute_script(
        f'const v = document.querySelector("{video}"); v.dataset.watched = "yes"; return v.currentTime;'
    )
    acknowledged = factory.client.post(f"/incidents/{incident_id}/acknowledge", headers=officer.headers)
    assert acknowledged.status_code == 200, acknowledged.text
    wait(browser).until(lambda d: attribute(d, "#incident-detail", "data-status") == "acknowledged")
    still = browser.execute_script(
        f'const v = document.querySelector("{video}"); return [v.dataset.watched, v.currentTime];'
    )
    assert still[0] == "yes" and still[1] >= watched, "the clip was replaced by a new element"

    image = f"#detail-evidence figure[data-evidence-id='{image_id}'] img"
    wait(browser).until(
        lambda d: d.execute_script(
            f'const i = document.querySelector("{image}"); return i && i.complete && i.naturalWidth > 0;'
        )
    )
    click(browser, image)
    wait(browser).until(lambda d: attribute(d, "#evidence-full", "open") is not None)
    shown = browser.execute_script(
        "const i = document.querySelector('#evidence-full img'); return [i.naturalWidth, i.width];"
    )
    assert shown == [1600, 1600], "the dialog shows the image at its own size"
    downloads = factory.client.get(
        "/admin/audit",
        params={"actor_id": officer.user.id, "action": "evidence.downloaded"},
        headers=factory.admin().headers,
    )
    assert downloads.status_code == 200, downloads.text
    assert sorted(int(entry["target_id"]) for entry in downloads.json()) == sorted(ids)
    assert severe_console_entries(browser) == []
