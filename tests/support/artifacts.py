"""Where browser tests leave their screenshots: ``$SAFESPHERE_TEST_ARTIFACTS`` or ``test-artifacts/``."""

from __future__ import annotations

import os
from pathlib import Path

from selenium.webdriver import Chrome as WebDriver

REPO_ROOT = Path(__file__).resolve().parents[2]


def artifacts_dir() -> Path:
    """The folder CI keeps after a run (created on first use)."""
    folder = Path(os.environ.get("SAFESPHERE_TEST_ARTIFACTS") or REPO_ROOT / "test-artifacts")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def save_screenshot(driver: WebDriver, name: str) -> Path:
    """A PNG of the browser's window as ``<artifacts>/screenshots/<name>.png``."""
    path = artifacts_dir() / "screenshots" / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    assert driver.save_screenshot(str(path)), f"no screenshot written to {path}"
    return path
