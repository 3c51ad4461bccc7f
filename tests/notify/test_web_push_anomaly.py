"""A tourist's own anomaly alert reaches their device (every fix scores below a threshold of 100)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from safesphere.core import clock
from tests.factories import Factory
from tests.notify.conftest import FAST_RETRIES
from tests.notify.test_web_push import subscribe
from tests.support.push_service import PushService
from tests.support.receivers import wait_for
from tests.tracking.fixtures import send_fix


@pytest.fixture
def push_service() -> Iterator[PushService]:
    service = PushService().start()
    try:
        yield service
    finally:
        service.stop()


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {**FAST_RETRIES, "web_push_allow_http": True, "anomaly_alert_threshold": 100}


def test_an_anomaly_alert_arrives_on_the_tourists_device(
    client: TestClient, factory: Factory, push_service: PushService
) -> None:
    tourist = factory.tourist()
    subscribe(client, tourist, push_service.device("phone"))

    body = send_fix(client, tourist, clock.now() - timedelta(seconds=5))
    assert body["alert_triggered"] is True

    (push,) = wait_for(lambda: push_service.pushes, what="the anomaly alert at the push service")
    assert push.payload["event"] == "anomaly"
    assert push.payload["title"].startswith("Safety Alert - Score:")
    assert push_service.refused == []
