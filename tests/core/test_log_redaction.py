"""Share tokens and engine keys never reach a log line (issue 16, item 4)."""

from __future__ import annotations

import logging

import httpx
import pytest

from safesphere.core.config import Settings
from safesphere.core.logging import configure_logging
from tests.support.live import LiveServer

SHARE_TOKEN = "Zq3vN8xLr0TtYb2WcPe5HkJm9Sa4Ud7FgIo1Kl6NpQ"
ENGINE_KEY = "ssk_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8S9t0Uv"


def test_the_access_log_redacts_share_tokens_and_keys(settings: Settings) -> None:
    with LiveServer(settings, serve_command=True, extra_env={"SAFESPHERE_LOG_LEVEL": "info"}) as server:
        httpx.get(f"{server.url}/share/{SHARE_TOKEN}", timeout=10)
        httpx.get(f"{server.url}/share/{SHARE_TOKEN}/map", timeout=10)
        httpx.get(f"{server.url}/health?key={ENGINE_KEY}&token={SHARE_TOKEN}", timeout=10)
        httpx.get(f"{server.url}/incidents", headers={"X-API-Key": ENGINE_KEY}, timeout=10)
        server.stop()
        assert server.log_path is not None
        log = server.log_path.read_text()
    assert '"GET /share/*** HTTP/1.1" 404' in log  # the access log is on, and redacted
    assert "/share/***/map" in log
    assert SHARE_TOKEN not in log
    assert ENGINE_KEY not in log and ENGINE_KEY[4:] not in log


def test_our_own_log_lines_are_redacted(settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(settings)
    logging.getLogger("safesphere.test").warning(
        "sending https://example.org/share/%s with Bearer %s", SHARE_TOKEN, ENGINE_KEY
    )
    written = capsys.readouterr().err
    assert "share/***" in written and "Bearer ***" in written
    assert SHARE_TOKEN not in written and ENGINE_KEY[4:] not in written
