"""The tourist app tests' browser: one headless Chromium per module with a phone-sized window."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from selenium.webdriver import Chrome as WebDriver

from tests.support.browser import severe_console_entries, start_chromium
from tests.support.live import LiveServer


@pytest.fixture(scope="module")
def chromium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    driver = start_chromium(tmp_path_factory.mktemp("chromium-profile"))
    driver.set_window_size(480, 2200)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def browser(chromium: WebDriver, live_server: LiveServer) -> Iterator[WebDriver]:
    """The module's browser, its console emptied, left on a blank page before the test's server stops."""
    severe_console_entries(chromium)
    try:
        yield chromium
    finally:
        chromium.execute_cdp_cmd("Network.emulateNetworkConditions", ONLINE)
        chromium.get("about:blank")
        severe_console_entries(chromium)


ONLINE = {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}
