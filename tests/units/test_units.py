"""The units registry (authority CRUD) and dispatching registered units: a unit's status follows its
incidents; bad input is a 4xx naming the problem, and nothing is half-stored."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.factories import Account, Factory
from tests.incidents.reports import report_body


def _report(client: TestClient, factory: Factory) -> str:
    body = report_body(threat_level="HIGH", is_critical=False)
    response = client.post("/threats/report", json=body, headers=factory.engine_key().headers)
    assert response.status_code == 200, response.text
    return str(body["incident_id"])


def _unit(client: TestClient, officer: Account, name: str, **fields: Any) -> dict[str, Any]:
    response = client.post(
        "/units", json={"name": name, "type": "patrol_car", **fields}, headers=officer.headers
    )
    assert response.status_code == 201, response.text
    unit: dict[str, Any] = response.json()
    return unit


def _get(client: TestClient, officer: Account, unit_id: int) -> dict[str, Any]:
    response = client.get(f"/units/{unit_id}", headers=officer.headers)
    assert response.status_code == 200, response.text
    unit: dict[str, Any] = response.json()
    return unit


def _dispatch(client: TestClient, officer: Account, incident_id: str, **body: Any) -> Any:
    return client.post(f"/incidents/{incident_id}/dispatch", json=body, headers=officer.headers)


def _close(client: TestClient, officer: Account, incident_id: str, outcome: str = "resolved") -> None:
    closed = client.post(
        f"/incidents/{incident_id}/resolve", json={"outcome": outcome}, headers=officer.headers
    )
    assert closed.status_code == 200, closed.text


def _audit(client: TestClient, factory: Factory, action: str) -> list[dict[str, Any]]:
    response = client.get("/admin/audit", params={"action": action}, headers=factory.admin().headers)
    assert response.status_code == 200, response.text
    entries: list[dict[str, Any]] = response.json()
    return entries


def test_authorities_register_list_move_and_remove_units(client: TestClient, factory: Factory) -> None:
    officer = factory.authority()
    car = _unit(client, officer, "Patrol 12", position={"lat": 48.8566, "lon": 2.3522})
    assert (car["status"], car["position"]["lat"], car["incident_ids"]) == ("available", 48.8566, [])
    assert car["position"]["at"] is not None
    foot = _unit(client, officer, "Foot 3", type="foot_patrol", status="off")

    listed = client.get("/units", headers=officer.headers).json()
    assert [u["name"] for u in listed["units"]] == ["Foot 3", "Patrol 12"]
    available = client.get("/units", params={"status": "available"}, headers=officer.headers).json()
    assert [u["id"] for u in available["units"]] == [car["id"]]

    change = {"status": "busy", "position": {"lat": 48.86, "lon": 2.35}}
    moved = client.patch(f"/units/{car['id']}", json=change, headers=officer.headers)
    assert moved.status_code == 200, moved.text
    assert (moved.json()["status"], moved.json()["position"]["lat"]) == ("busy", 48.86)
    cleared = client.patch(f"/units/{car['id']}", json={"position": None}, headers=officer.headers)
    assert (cleared.json()["position"], cleared.json()["status"], cleared.json()["name"]) == (
        None,
        "busy",
        "Patrol 12",
    )

    assert client.delete(f"/units/{foot['id']}", headers=officer.headers).status_code == 204
    assert client.get(f"/units/{foot['id']}", headers=officer.headers).status_code == 404
    assert [e["target_id"] for e in _audit(client, factory, "unit.created")] == [
        str(foot["id"]),
        str(car["id"]),
    ]
    assert [e["details"]["name"] for e in _audit(client, factory, "unit.deleted")] == ["Foot 3"]


def test_bad_unit_input_is_a_4xx_naming_the_problem_and_stores_nothing(
    client: TestClient, factory: Factory
) -> None:
    officer = factory.authority()
    car = _unit(client, officer, "Patrol 12")

    def refused(method: str, path: str, body: dict[str, Any]) -> tuple[int, str]:
        response = client.request(method, path, json=body, headers=officer.headers)
        detail = response.json()["detail"]
        return response.status_code, detail if isinstance(detail, str) else str([d["loc"] for d in detail])

    assert refused("POST", "/units", {"name": "patrol 12", "type": "patrol_car"}) == (
        409, "A unit named 'patrol 12' already exists")  # fmt: skip
    code, where = refused("POST", "/units", {"name": "X", "type": "patrol_car", "status": "dispatched"})
    assert (code, "status" in where) == (422, True)
    code, where = refused("POST", "/units", {"name": "X", "type": "spaceship"})
    assert (code, "type" in where) == (422, True)
    code, where = refused(
        "POST", "/units", {"name": "X", "type": "bicycle", "position": {"lat": 91, "lon": 0}}
    )
    assert (code, "lat" in where) == (422, True)
    code, where = refused("PATCH", f"/units/{car['id']}", {"status": "dispatched"})
    assert (code, "status" in where) == (422, True)
    assert refused("PATCH", "/units/999999", {"status": "off"})[0] == 404

    units = client.get("/units", headers=officer.headers).json()["units"]
    assert [(u["name"], u["status"]) for u in units] == [("Patrol 12", "available")]
    assert (
        factory.tourist().headers
        and client.get("/units", headers=factory.tourist().headers).status_code == 403
    )


def test_a_dispatched_unit_follows_its_incident_and_is_available_again_when_it_closes(
    client: TestClient, factory: Factory
) -> None:
    officer = factory.authority()
    car = _unit(client, officer, "Patrol 12")
    first, second = _report(client, factory), _report(client, factory)

    sent = _dispatch(client, officer, first, unit_id=car["id"], notes="nearest car")
    assert sent.status_code == 200, sent.text
    assert (sent.json()["status"], sent.json()["dispatch_unit"]) == ("dispatched", "Patrol 12")
    assert (_get(client, officer, car["id"])["status"], _get(client, officer, car["id"])["incident_ids"]) == (
        "dispatched", [first])  # fmt: skip
    detail = client.get(f"/incidents/{first}", headers=officer.headers).json()
    assert detail["dispatch_unit"] == "Patrol 12" and detail["dispatched_at"] is not None
    [entry] = _audit(client, factory, "incident.dispatched")
    assert (entry["target_id"], entry["actor_id"], entry["details"]) == (
        first, officer.user.id, {"unit": "Patrol 12", "unit_id": car["id"]})  # fmt: skip

    taken = _dispatch(client, officer, second, unit_id=car["id"])
    assert (taken.status_code, taken.json()["detail"]) == (
        409,
        "Unit 'Patrol 12' is dispatched: pick an available unit",
    )
    assert client.get(f"/incidents/{second}", headers=officer.headers).json()["status"] == "actions_executed"

    _close(client, officer, first)
    again = _get(client, officer, car["id"])
    assert (again["status"], again["incident_ids"]) == ("available", [])
    assert _dispatch(client, officer, second, unit_id=car["id"]).status_code == 200
    _close(client, officer, second, outcome="false_alarm")
    assert _get(client, officer, car["id"])["status"] == "available"


def test_a_unit_set_busy_by_hand_stays_busy_and_one_on_two_incidents_waits_for_both(
    client: TestClient, factory: Factory
) -> None:
    officer = factory.authority()
    car, bike = _unit(client, officer, "Patrol 12"), _unit(client, officer, "Bike 4", type="bicycle")
    first, second, third = _report(client, factory), _report(client, factory), _report(client, factory)

    assert _dispatch(client, officer, first, unit_id=car["id"]).status_code == 200
    client.patch(f"/units/{car['id']}", json={"status": "busy"}, headers=officer.headers)
    _close(client, officer, first)
    assert _get(client, officer, car["id"])["status"] == "busy"

    assert _dispatch(client, officer, second, unit_id=bike["id"]).status_code == 200
    client.patch(f"/units/{bike['id']}", json={"status": "available"}, headers=officer.headers)  # freed early
    assert _dispatch(client, officer, third, unit_id=bike["id"]).status_code == 200
    _close(client, officer, second)
    still_on = _get(client, officer, bike["id"])
    assert (still_on["status"], still_on["incident_ids"]) == ("dispatched", [third])
    refused = client.delete(f"/units/{bike['id']}", headers=officer.headers)
    assert (refused.status_code, third in refused.json()["detail"]) == (409, True)
    _close(client, officer, third)
    assert _get(client, officer, bike["id"])["status"] == "available"


def test_bad_dispatch_input_names_the_problem_and_moves_nothing(client: TestClient, factory: Factory) -> None:
    officer = factory.authority()
    car = _unit(client, officer, "Patrol 12")
    incident_id = _report(client, factory)

    unknown = _dispatch(client, officer, incident_id, unit_id=424242)
    assert (unknown.status_code, unknown.json()["detail"][0]["loc"]) == (422, ["body", "unit_id"])
    both = _dispatch(client, officer, incident_id, unit_id=car["id"], unit="Patrol 12")
    assert both.status_code == 422 and "either unit_id" in both.json()["detail"][0]["msg"]
    assert _dispatch(client, officer, incident_id).status_code == 422
    assert (
        client.get(f"/incidents/{incident_id}", headers=officer.headers).json()["status"]
        == "actions_executed"
    )

    _close(client, officer, incident_id)
    closed = _dispatch(client, officer, incident_id, unit_id=car["id"])
    assert (closed.status_code, closed.json()["detail"]) == (
        409,
        "Cannot dispatch an incident that is resolved",
    )
    assert _get(client, officer, car["id"])["status"] == "available"  # the unit's claim rolled back too


def test_the_free_text_unit_of_before_the_registry_still_dispatches(
    client: TestClient, factory: Factory
) -> None:
    officer = factory.authority()
    incident_id = _report(client, factory)
    sent = _dispatch(client, officer, incident_id, unit="Patrol 99")
    assert (sent.status_code, sent.json()["dispatch_unit"]) == (200, "Patrol 99")
    assert client.get("/units", headers=officer.headers).json()["units"] == []
