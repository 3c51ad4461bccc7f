"""Admins configure channels; secrets go in and never come out; routing follows the channels' roles."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from safesphere.notify.models import Audience, ChannelKind, ChannelRole
from safesphere.notify.routing import LOG_CHANNEL, ChannelSpec, Recipient, routes
from tests.factories import Factory
from tests.incidents.reports import report_body
from tests.notify.conftest import POLICE_SECRET
from tests.support.receivers import http_receiver, signature_is_valid, wait_for

CHANNEL_SECRET = "whsec_" + "Y2l0eS1kaXNwYXRjaC1zaWduaW5nLWtleS0wMDAy"


def test_secrets_are_write_only(client: TestClient, factory: Factory) -> None:
    admin = factory.admin()
    body = {
        "name": "city-dispatch",
        "kind": "webhook",
        "config": {"url": "https://dispatch.example.org/hooks/safesphere"},
        "secret": CHANNEL_SECRET,
        "roles": ["police", "supervisor"],
    }
    created = client.post("/admin/channels", json=body, headers=admin.headers)
    assert created.status_code == 201, created.text
    assert created.json()["has_secret"] is True
    listed = client.get("/admin/channels", headers=admin.headers)

    for response in (created, listed):
        assert CHANNEL_SECRET not in response.text
        assert POLICE_SECRET not in response.text
        assert "gateway-token-123" not in response.text
    by_name = {c["name"]: c for c in listed.json()}
    assert by_name["city-dispatch"]["managed_by"] == "api"
    assert by_name["police-webhook"] == {
        **by_name["police-webhook"],
        "managed_by": "settings",
        "has_secret": True,
    }
    assert by_name["log"]["managed_by"] == "built-in"
    patched = client.patch(
        f"/admin/channels/{created.json()['id']}",
        json={"enabled": False, "secret": ""},
        headers=admin.headers,
    )
    assert (patched.json()["enabled"], patched.json()["has_secret"]) == (False, False)


def test_a_channel_config_that_does_not_fit_its_kind_is_refused_by_name(
    client: TestClient, factory: Factory
) -> None:
    admin = factory.admin()
    cases = [
        ({"name": "bad", "kind": "webhook", "config": {"url": "not a url"}, "roles": ["police"]}, "url"),
        ({"name": "bad", "kind": "sms", "config": {"url": "https://sms.example", "format": "xml"},
          "roles": ["user"]}, "format"),
        ({"name": "bad", "kind": "email", "config": {}, "roles": ["user"]}, "host"),
    ]  # fmt: skip
    for body, field in cases:
        response = client.post("/admin/channels", json=body, headers=admin.headers)
        assert response.status_code == 422, response.text
        assert response.json()["detail"][0]["loc"][:3] == ["body", "config", field]
    listed = client.get("/admin/channels", headers=admin.headers).json()
    assert "bad" not in {c["name"] for c in listed}


def test_a_duplicate_channel_name_is_a_conflict(client: TestClient, factory: Factory) -> None:
    admin = factory.admin()
    body = {"name": "ops", "kind": "log", "config": {}, "roles": ["supervisor"]}
    assert client.post("/admin/channels", json=body, headers=admin.headers).status_code == 201
    assert client.post("/admin/channels", json=body, headers=admin.headers).status_code == 409
    built_in = client.post("/admin/channels", json={**body, "name": "log"}, headers=admin.headers)
    assert built_in.status_code == 409 and "built-in" in built_in.json()["detail"]


def test_a_channel_an_admin_adds_is_used_for_its_role(client: TestClient, factory: Factory) -> None:
    admin, officer = factory.admin(), factory.authority()
    with http_receiver() as dispatch:
        body = {
            "name": "city-dispatch",
            "kind": "webhook",
            "config": {"url": f"{dispatch.url}/city"},
            "secret": CHANNEL_SECRET,
            "roles": ["police"],
        }
        assert client.post("/admin/channels", json=body, headers=admin.headers).status_code == 201
        report = report_body(weapon_detected=False, weapon_types=[])
        assert (
            client.post("/threats/report", json=report, headers=factory.engine_key().headers).status_code
            == 200
        )

        request = wait_for(lambda: dispatch.requests, what="the admin's webhook")[0]
        assert request.path == "/city"
        assert signature_is_valid(request, CHANNEL_SECRET)
        assert json.loads(request.body)["incident_id"] == report["incident_id"]
    rows = client.get(
        "/deliveries", params={"incident_id": report["incident_id"]}, headers=officer.headers
    ).json()
    assert {d["channel"] for d in rows["deliveries"] if d["audience"] == "police"} == {
        "city-dispatch",
        "police-webhook",
    }


def test_routing_sends_people_to_their_own_addresses_and_falls_back_to_the_log() -> None:
    sms = ChannelSpec("sms", ChannelKind.sms, frozenset({ChannelRole.contacts_sms}), {"url": "https://sms"})
    mail = ChannelSpec("mail", ChannelKind.email, frozenset({ChannelRole.contacts_email}), {"host": "smtp"})
    off = ChannelSpec(
        "off", ChannelKind.webhook, frozenset({ChannelRole.police}), {"url": "https://x"}, enabled=False
    )
    contact = Recipient(Audience.contact, "Ana", email="ana@example.com", phone="+336")

    assert [(r.channel.name, r.address) for r in routes(contact, [sms, mail, off])] == [
        ("mail", "ana@example.com"),
        ("sms", "+336"),
    ]
    no_phone = Recipient(Audience.contact, "Bo", email=None, phone=None)
    assert [(r.channel, r.address) for r in routes(no_phone, [sms, mail])] == [(LOG_CHANNEL, "Bo")]
    police = Recipient(Audience.police, "police_dispatch")
    assert [r.channel for r in routes(police, [sms, mail, off])] == [LOG_CHANNEL]
