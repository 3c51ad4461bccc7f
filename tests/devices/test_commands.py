"""Recording, voice alerts and location streaming are commands the reporting device fetches and acks."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.factories import Factory
from tests.incidents.reports import report_body


def test_a_critical_report_returns_its_commands_and_the_engine_fetches_them_once(
    client: TestClient, factory: Factory
) -> None:
    engine, other = factory.engine_key(), factory.engine_key()
    body = report_body()
    response = client.post("/threats/report", json=body, headers=engine.headers)

    commands = response.json()["commands"]
    assert [(c["type"], c["params"]) for c in commands] == [
        ("start_recording", {"mode": "continuous_360"}),
        ("stream_location", {"interval_s": 5}),
        ("voice_alert", {"message": "Police have been alerted. You are being recorded."}),
    ]
    assert {c["incident_id"] for c in commands} == {body["incident_id"]}
    replay = client.post("/threats/report", json=body, headers=engine.headers).json()
    assert [c["command_id"] for c in replay["commands"]] == [c["command_id"] for c in commands]

    fetched = client.get("/devices/commands", headers=engine.headers).json()
    assert [c["command_id"] for c in fetched["commands"]] == [c["command_id"] for c in commands]
    assert {c["status"] for c in fetched["commands"]} == {"delivered"}
    assert client.get("/devices/commands", headers=engine.headers).json()["count"] == 0
    assert client.get("/devices/commands", headers=other.headers).json()["count"] == 0

    first = commands[0]["command_id"]
    assert client.post(f"/devices/commands/{first}/ack", headers=other.headers).status_code == 404
    acked = client.post(f"/devices/commands/{first}/ack", headers=engine.headers)
    assert acked.status_code == 200 and acked.json()["status"] == "acknowledged"


def test_closing_the_incident_tells_the_device_to_stop(client: TestClient, factory: Factory) -> None:
    engine, officer = factory.engine_key(), factory.authority()
    body = report_body(threat_level="HIGH", is_critical=False)
    assert client.post("/threats/report", json=body, headers=engine.headers).status_code == 200
    client.get("/devices/commands", headers=engine.headers)

    assert (
        client.post(f"/incidents/{body['incident_id']}/resolve", json={}, headers=officer.headers).status_code
        == 200
    )
    stops = client.get("/devices/commands", headers=engine.headers).json()["commands"]
    assert sorted(c["type"] for c in stops) == ["stop_recording", "stop_streaming"]


def test_a_low_report_gives_no_commands_and_a_user_cannot_fetch_commands(
    client: TestClient, factory: Factory
) -> None:
    engine = factory.engine_key()
    low = report_body(threat_level="LOW", is_critical=False, weapon_detected=False, weapon_types=[])
    assert client.post("/threats/report", json=low, headers=engine.headers).json()["commands"] == []
    assert client.get("/devices/commands", headers=factory.authority().headers).status_code in (401, 403)
    assert client.get("/devices/commands").status_code == 401
