"""A tourist can never read or change another tourist's data."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.testclient import TestClient

from safesphere.core import clock
from tests.factories import Factory
from tests.tracking.fixtures import send_fix

NOW = datetime(2026, 11, 20, 13, 0, tzinfo=UTC)


def test_tourists_see_and_change_only_their_own_data(client: TestClient, factory: Factory) -> None:
    ana, bob = factory.tourist(), factory.tourist()
    with clock.frozen(NOW):
        ana_fix = send_fix(client, ana, NOW)
        contact = client.post(
            "/me/contacts", json={"name": "Ana's mum", "phone": "+34 600"}, headers=ana.headers
        ).json()
        client.put("/me/profile", json={"name": "Ana"}, headers=ana.headers)
        # Bob has no fix: nothing of Ana's leaks through his reads.
        for path in ("/location/safety-analysis", "/location/nearby-risks", "/safety/score"):
            assert client.get(path, headers=bob.headers).status_code == 404
        assert client.get("/location/history", headers=bob.headers).json() == []
        assert client.get("/location/safety-trend", headers=bob.headers).json()["data_points"] == 0
        assert client.get("/me/contacts", headers=bob.headers).json() == []
        assert client.get("/me/profile", headers=bob.headers).json()["name"] is None
        # Bob cannot delete Ana's contact by guessing its id.
        assert client.delete(f"/me/contacts/{contact['id']}", headers=bob.headers).status_code == 404
        # Nor reach the authority views of Ana.
        assert client.get(f"/authority/tourists/{ana.user.id}", headers=bob.headers).status_code == 403
        assert (
            client.get(f"/authority/tourists/{ana.user.id}/locations", headers=bob.headers).status_code == 403
        )
        assert client.get("/alerts", headers=bob.headers).status_code == 403
        # Bob's SOS with no fix of his own is not placed at Ana's position.
        assert client.post("/sos", headers=bob.headers).status_code == 404
    assert [c["id"] for c in client.get("/me/contacts", headers=ana.headers).json()] == [contact["id"]]
    assert [h["id"] for h in client.get("/location/history", headers=ana.headers).json()] == [
        ana_fix["location_id"]
    ]
