"""Web Push end to end: the worker encrypts and signs for a local push service, which checks the VAPID
token and decrypts the payload with the device's own private key (tests/support/push_service.py)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from safesphere.core import clock
from safesphere.core.config import Settings
from tests.factories import Account, Factory
from tests.notify.conftest import FAST_RETRIES
from tests.support.push_service import Device, PushService
from tests.support.receivers import wait_for
from tests.tracking.fixtures import SPOT, camera_sees_threat, send_fix

SOS_HERE = {"lat": SPOT[0], "lon": SPOT[1]}


@pytest.fixture
def push_service() -> Iterator[PushService]:
    service = PushService().start()
    try:
        yield service
    finally:
        service.stop()


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {**FAST_RETRIES, "web_push_allow_http": True}


def subscribe(client: TestClient, tourist: Account, device: Device) -> int:
    response = client.post("/me/push-subscriptions", json=device.subscription(), headers=tourist.headers)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def web_push_deliveries(client: TestClient, factory: Factory, **query: str) -> list[dict[str, Any]]:
    response = client.get("/deliveries", params={"limit": 1000, **query}, headers=factory.authority().headers)
    assert response.status_code == 200, response.text
    return [d for d in response.json()["deliveries"] if d["channel"] == "web-push"]


def settled(client: TestClient, factory: Factory) -> list[dict[str, Any]]:
    rows = web_push_deliveries(client, factory)
    return rows if rows and all(d["status"] in ("sent", "failed") for d in rows) else []


def test_an_sos_confirmation_arrives_signed_and_decrypted_on_the_tourists_device(
    client: TestClient, factory: Factory, push_service: PushService, settings: Settings
) -> None:
    tourist = factory.tourist()
    subscribe(client, tourist, push_service.device("phone"))

    assert client.post("/sos", json=SOS_HERE, headers=tourist.headers).status_code == 201

    (push,) = wait_for(lambda: push_service.pushes, what="the SOS confirmation at the push service")
    assert push.payload["title"] == "SOS sent"
    assert push.payload["event"] == "sos"
    assert push.urgency == "high"
    assert push_service.refused == []
    # Signed by the key browsers subscribe with, which lives 0600 in the data directory.
    assert push_service.vapid_keys == {client.get("/push/key").json()["public_key"]}
    assert (settings.data_dir / "vapid_private_key.pem").stat().st_mode & 0o777 == 0o600
    (delivery,) = wait_for(lambda: settled(client, factory), what="the push delivery to be recorded")
    assert (delivery["status"], delivery["audience"], delivery["kind"]) == ("sent", "user", "webpush")


def test_a_nearby_warning_reaches_every_device_of_the_tourist(
    client: TestClient, factory: Factory, push_service: PushService
) -> None:
    tourist = factory.tourist()
    subscribe(client, tourist, push_service.device("phone"))
    subscribe(client, tourist, push_service.device("tablet"))
    send_fix(client, tourist, clock.now() - timedelta(minutes=1))

    camera_sees_threat(client, factory, clock.now(), lat=SPOT[0] + 0.003)

    pushes = wait_for(lambda: len(push_service.pushes) == 2 and push_service.pushes, what="two warnings")
    assert {p.path for p in pushes} == {"/push/phone", "/push/tablet"}
    assert all(p.payload["event"] == "warning" for p in pushes)
    assert all("threat reported near you" in p.payload["title"] for p in pushes)
    assert "m from you" in pushes[0].payload["body"]


def test_a_push_service_that_is_down_gets_the_message_after_retries(
    client: TestClient, factory: Factory, push_service: PushService
) -> None:
    tourist = factory.tourist()
    subscribe(client, tourist, push_service.device("phone"))
    push_service.fail_next(2)

    client.post("/sos", json=SOS_HERE, headers=tourist.headers)

    wait_for(lambda: push_service.pushes, what="the SOS confirmation after two refusals")
    (delivery,) = wait_for(lambda: settled(client, factory), what="the push delivery to be recorded")
    assert (delivery["status"], delivery["attempts"]) == ("sent", 3)


def test_a_subscription_the_push_service_dropped_is_removed_and_not_retried(
    client: TestClient, factory: Factory, push_service: PushService
) -> None:
    tourist = factory.tourist()
    subscribe(client, tourist, push_service.device("phone"))
    push_service.gone("phone")

    client.post("/sos", json=SOS_HERE, headers=tourist.headers)

    (delivery,) = wait_for(lambda: settled(client, factory), what="the push delivery to be recorded")
    assert (delivery["status"], delivery["attempts"]) == ("failed", 1)
    assert "410" in delivery["last_error"]
    assert client.get("/me/push-subscriptions", headers=tourist.headers).json() == []
    assert push_service.pushes == []


def test_an_unsubscribed_device_is_told_nothing(
    client: TestClient, factory: Factory, push_service: PushService
) -> None:
    tourist = factory.tourist()
    device = push_service.device("phone")
    subscribe(client, tourist, device)
    removed = client.post(
        "/me/push-subscriptions/remove", json={"endpoint": device.endpoint}, headers=tourist.headers
    )
    assert removed.status_code == 204
    again = client.post(
        "/me/push-subscriptions/remove", json={"endpoint": device.endpoint}, headers=tourist.headers
    )
    assert again.status_code == 404

    client.post("/sos", json=SOS_HERE, headers=tourist.headers)

    assert web_push_deliveries(client, factory) == []


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"keys": {"p256dh": "AAAA", "auth": "AAAAAAAAAAAAAAAAAAAAAA"}}, "keys.p256dh"),
        ({"keys": {"p256dh": None, "auth": "short"}}, "keys.auth"),
        ({"endpoint": "ftp://push.example/abc"}, "endpoint"),
    ],
)
def test_a_subscription_that_cannot_work_is_refused_and_not_stored(
    client: TestClient, factory: Factory, push_service: PushService, change: dict[str, Any], named: str
) -> None:
    tourist = factory.tourist()
    body = push_service.device("phone").subscription()
    if "keys" in change:
        body["keys"] = {**body["keys"], **{k: v for k, v in change["keys"].items() if v is not None}}
    else:
        body.update(change)

    response = client.post("/me/push-subscriptions", json=body, headers=tourist.headers)

    assert response.status_code == 422
    assert named in response.text
    assert client.get("/me/push-subscriptions", headers=tourist.headers).json() == []
