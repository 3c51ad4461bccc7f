"""The lists and the live stream together: the page reads its lists only once the stream has said hello,
and merges what the stream delivered meanwhile row by row, the later ``updated_at`` winning.

The browser's network is slowed where a test needs a list to be older or newer than the live state: a
script the browser runs before the page's own (Chrome DevTools ``addScriptToEvaluateOnNewDocument``)
holds a list's request or its response, from the real server, until the test releases it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Literal

import httpx
from selenium.webdriver import Chrome as WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec

from safesphere.core.config import Settings
from tests.dashboard.page import attribute, leave, log_in, report, row_attribute, wait
from tests.factories import Account, Factory
from tests.support.browser import severe_console_entries
from tests.support.live import LiveServer

Stage = Literal["request", "response"]
QUIET_S = "3600"
"""A stream that polls once and then not for an hour: within a test, nothing it has not sent yet arrives."""
SHORT_OVERLAP_S = 1.0

GATE_SCRIPT = """
(() => {
  const hold = %s;
  const gate = { log: [], held: 0, helloDelivered: false, listsBeforeHello: 0 };
  window.__gate = gate;
  const released = new Promise((resolve) => { gate.release = resolve; });
  const realFetch = window.fetch.bind(window);
  const watchHello = (response) => {
    const decoder = new TextDecoder();
    let text = "";
    const body = response.body.pipeThrough(new TransformStream({
      transform(chunk, controller) {
        controller.enqueue(chunk);
        if (!gate.helloDelivered) {
          text += decoder.decode(chunk, { stream: true });
          gate.helloDelivered = text.includes("event: hello");
        }
      },
    }));
    return new Response(body, { status: response.status, headers: response.headers });
  };
  window.fetch = async (input, init) => {
    const url = new URL(typeof input === "string" ? input : input.url, location.href);
    const path = url.pathname + url.search;
    gate.log.push(path);
    if (/^\\/(incidents|alerts)\\?/.test(path) && !gate.helloDelivered) gate.listsBeforeHello += 1;
    const prefix = Object.keys(hold).find((p) => path.startsWith(p));
    const stage = prefix === undefined ? null : hold[prefix];
    if (stage === "request") { gate.held += 1; await released; }
    const response = await realFetch(input, init);
    if (stage === "response") { gate.held += 1; await released; }
    return path.startsWith("/live/events") ? watchHello(response) : response;
  };
})();
"""
"""Counts the list requests made before the stream's hello reached the page, and holds the requests or
responses of the paths in ``hold`` (``{"/incidents?": "response"}``) until ``window.__gate.release()``."""


@contextmanager
def network_gate(driver: WebDriver, hold: dict[str, Stage]) -> Iterator[None]:
    """Every page loaded in the block runs ``GATE_SCRIPT`` before its own script."""
    added = driver.execute_cdp_cmd(
        "Page.addScriptToEvaluateOnNewDocument", {"source": GATE_SCRIPT % json.dumps(hold)}
    )
    try:
        yield
    finally:
        driver.execute_cdp_cmd(
            "Page.removeScriptToEvaluateOnNewDocument", {"identifier": added["identifier"]}
        )


def gate(driver: WebDriver) -> dict[str, Any]:
    state: dict[str, Any] = driver.execute_script(
        "const g = window.__gate; return g ? { log: g.log, held: g.held, helloDelivered: g.helloDelivered,"
        " listsBeforeHello: g.listsBeforeHello } : null;"
    )
    return state


@contextmanager
def started(settings: Settings, driver: WebDriver, **env: str) -> Iterator[LiveServer]:
    """A live server with ``env``; the page is logged out before it stops (an open stream holds it up)."""
    server = LiveServer(settings, extra_env=env)
    server.start()
    try:
        yield server
    finally:
        leave(driver)
        server.stop()


def loaded(driver: WebDriver, list_id: str) -> None:
    wait(driver).until(ec.presence_of_element_located((By.CSS_SELECTOR, f'#{list_id}[data-loaded="true"]')))


def acknowledge(api: httpx.Client, officer: Account, incident_id: str) -> None:
    response = api.post(f"/incidents/{incident_id}/acknowledge", json={}, headers=officer.headers)
    assert response.status_code == 200, response.text


def test_the_lists_are_read_once_the_stream_has_said_hello(
    browser: WebDriver, live_server: LiveServer, factory: Factory
) -> None:
    """So every change committed after the lists were read is on the stream, without relying on its
    overlap; the stream's own request comes first."""
    incident_id = report(factory.client, factory.engine_key(), latitude=48.86, longitude=2.36)
    with network_gate(browser, {}):
        log_in(browser, live_server, factory.authority())
        loaded(browser, "incident-list")
        loaded(browser, "alert-list")

    state = gate(browser)
    assert state["helloDelivered"]
    assert state["listsBeforeHello"] == 0, state["log"]
    lists = [i for i, path in enumerate(state["log"]) if path.startswith(("/incidents?", "/alerts?"))]
    assert len(lists) == 5, state["log"]  # incidents; SOS and anomalies, open and acknowledged
    assert min(lists) > state["log"].index("/live/events")
    assert row_attribute(browser, incident_id, "data-status") == "actions_executed"
    assert severe_console_entries(browser) == []


def test_a_list_read_before_a_live_change_does_not_undo_it(
    browser: WebDriver, settings: Settings, factory: Factory
) -> None:
    """The lists' responses are held while an incident is acknowledged, its alert resolved and a new SOS
    raised: the stream shows all three first, and the older lists released after them change none."""
    officer, tourist = factory.authority(), factory.tourist()
    engine = factory.engine_key()
    changed = report(
        factory.client, engine, threat_level="HIGH", is_critical=False, latitude=48.86, longitude=2.36
    )
    untouched = report(factory.client, engine, threat_level="MEDIUM", is_critical=False)
    [incident_alert] = factory.client.get("/alerts?status=open", headers=officer.headers).json()
    arranged = time.monotonic()
    # A short overlap: what the stream sends is only what changed after it started (the reports above are
    # older than the overlap by then). Not none: a change stamped before a look but committed after it
    # (the SOS below, under load) is found by the next look only within the overlap.
    with (
        started(settings, browser, SAFESPHERE_LIVE_OVERLAP_S=str(SHORT_OVERLAP_S)) as server,
        network_gate(browser, {"/incidents?": "response", "/alerts?": "response"}),
        httpx.Client(base_url=server.url, timeout=30) as api,
    ):
        time.sleep(max(0.0, arranged + SHORT_OVERLAP_S - time.monotonic()))
        log_in(browser, server, officer)
        wait(browser).until(
            lambda d: (gate(d) or {}).get("held") == 5
        )  # incidents; SOS and anomalies, open and acknowledged

        acknowledge(api, officer, changed)
        resolved = api.post(f"/alerts/{incident_alert['alert_id']}/resolve", headers=officer.headers)
        assert resolved.status_code == 200, resolved.text
        sos = api.post("/sos", json={"lat": 48.87, "lon": 2.35}, headers=tourist.headers)
        assert sos.status_code == 201, sos.text
        # The SOS comes after the resolution on the stream (alerts go in updated_at order).
        sos_item = f'#alert-list li[data-alert-id="{sos.json()["alert_id"]}"]'
        wait(browser).until(ec.presence_of_element_located((By.CSS_SELECTOR, sos_item)))
        assert row_attribute(browser, changed, "data-status") == "acknowledged"
        assert not browser.find_elements(
            By.CSS_SELECTOR, f'#incident-list tr[data-incident-id="{untouched}"]'
        )

        browser.execute_script("window.__gate.release();")
        loaded(browser, "incident-list")
        loaded(browser, "alert-list")
        assert row_attribute(browser, untouched, "data-status") == "actions_executed", "the list is shown"
        assert row_attribute(browser, changed, "data-status") == "acknowledged"
        resolved_item = f'#alert-list li[data-alert-id="{incident_alert["alert_id"]}"]'
        assert attribute(browser, resolved_item, "data-status") is None
        assert attribute(browser, sos_item, "data-status") == "open"
        assert severe_console_entries(browser) == []


def test_a_list_read_after_a_change_the_stream_has_not_sent_yet_shows_it(
    browser: WebDriver, settings: Settings, factory: Factory
) -> None:
    """The stream replays an incident's older state (its overlap reaches back to the report) and then
    looks again only an hour later; the incident list, requested after the incident was acknowledged, is
    newer than the live state and wins."""
    officer = factory.authority()
    incident_id = report(factory.client, factory.engine_key(), threat_level="HIGH", is_critical=False)
    with (
        started(
            settings, browser, SAFESPHERE_LIVE_OVERLAP_S=QUIET_S, SAFESPHERE_LIVE_POLL_INTERVAL_S=QUIET_S
        ) as server,
        network_gate(browser, {"/incidents?": "request"}),
        httpx.Client(base_url=server.url, timeout=30) as api,
    ):
        log_in(browser, server, officer)
        assert row_attribute(browser, incident_id, "data-status") == "actions_executed"  # from the stream
        assert gate(browser)["held"] == 1
        acknowledge(api, officer, incident_id)

        browser.execute_script("window.__gate.release();")
        loaded(browser, "incident-list")
        assert row_attribute(browser, incident_id, "data-status") == "acknowledged"
        assert severe_console_entries(browser) == []
