"""The dashboard tests' browser: one headless Chromium per module, emptied and logged out around each test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from selenium.webdriver import Chrome as WebDriver

from tests.dashboard.page import leave
from tests.support.browser import severe_console_entries, start_chromium
from tests.support.live import LiveServer


@pytest.fixture(scope="module")
def chromium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    driver = start_chromium(tmp_path_factory.mktemp("chromium-profile"))
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def browser(chromium: WebDriver, live_server: LiveServer) -> Iterator[WebDriver]:
    """The module's browser, its console emptied; logged out and left on a blank page before this test's
    server stops, so no page still reconnecting to it logs errors into the next test."""
    severe_console_entries(chromium)
    try:
        yield chromium
    finally:
        leave(chromium)
        severe_console_entries(chromium)
