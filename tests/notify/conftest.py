"""Delivery tests run the worker against real receivers on loopback, with small retry delays."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest

from tests.support.receivers import HttpReceiver, SmtpReceiver, http_receiver, smtp_receiver

POLICE_SECRET = "whsec_" + base64.b64encode(b"police-dispatch-signing-key-0001").decode()
FAST_RETRIES: dict[str, object] = {
    "delivery_worker_enabled": True,
    "delivery_backoff_base_s": 0.05,
    "delivery_backoff_max_s": 0.2,
    "delivery_poll_interval_s": 0.1,
    "delivery_max_attempts": 4,
    "delivery_timeout_s": 2.0,
}


@pytest.fixture
def police() -> Iterator[HttpReceiver]:
    with http_receiver() as receiver:
        yield receiver


@pytest.fixture
def gateway() -> Iterator[HttpReceiver]:
    with http_receiver() as receiver:
        yield receiver


@pytest.fixture
def mail() -> Iterator[SmtpReceiver]:
    with smtp_receiver() as receiver:
        yield receiver


@pytest.fixture
def settings_overrides(police: HttpReceiver, gateway: HttpReceiver, mail: SmtpReceiver) -> dict[str, object]:
    return {
        **FAST_RETRIES,
        "police_webhook_url": f"{police.url}/dispatch",
        "police_webhook_secret": POLICE_SECRET,
        "smtp_host": "127.0.0.1",
        "smtp_port": mail.port,
        "smtp_from": "alerts@safesphere.test",
        "sms_gateway_url": f"{gateway.url}/sms",
        "sms_gateway_format": "form",
        "sms_gateway_username": "safesphere",
        "sms_gateway_token": "gateway-token-123",
    }
