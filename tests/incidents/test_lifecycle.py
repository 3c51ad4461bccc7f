"""Authorities follow an incident to its end: acknowledge, dispatch, resolve; illegal moves are 409;
every change and note is on the timeline; share links stop working after resolution and a grace period."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from safesphere.core import clock
from tests.factories import Account, Factory
from tests.incidents.reports import report_body


def _report(client: TestClient, factory: Factory, owner: Account | None = None, **overrides: Any) -> str:
    body = report_body(**overrides)
    response = client.post("/threats/report", json=body, headers=factory.engine_key(owner=owner).headers)
    assert response.status_code == 200, response.text
    return str(body["incident_id"])


def test_acknowledge_dispatch_resolve_in_order_with_a_timeline(client: TestClient, factory: Factory) -> None:
    officer = factory.authority()
    incident_id = _report(client, factory)
    base = f"/incidents/{incident_id}"

    ack = client.post(f"{base}/acknowledge", json={"notes": "on it"}, headers=officer.headers)
    assert ack.status_code == 200, ack.text
    assert ack.json()["status"] == "acknowledged" and ack.json()["acknowledged_at"]
    sent = client.post(f"{base}/dispatch", json={"unit": "Patrol 12"}, headers=officer.headers)
    assert (sent.json()["status"], sent.json()["dispatch_unit"]) == ("dispatched", "Patrol 12")
    note = client.post(f"{base}/notes", json={"text": "Suspect left northbound"}, headers=officer.headers)
    assert note.status_code == 201
    done = client.post(
        f"{base}/resolve", json={"outcome": "resolved", "notes": "arrested"}, headers=officer.headers
    )
    assert done.json()["status"] == "resolved" and done.json()["resolved_at"]

    timeline = client.get(f"{base}/timeline", headers=officer.headers).json()
    kinds = [e["kind"] for e in timeline["entries"] if not e["kind"].startswith("delivery_")]
    assert kinds == ["reported", "acknowledged", "dispatched", "note", "resolved", "commands_issued"]
    by_kind = {e["kind"]: e for e in timeline["entries"]}
    assert by_kind["acknowledged"]["actor_id"] == officer.user.id
    assert by_kind["dispatched"]["details"]["unit"] == "Patrol 12"
    assert by_kind["note"]["details"]["text"] == "Suspect left northbound"
    queued = [e for e in timeline["entries"] if e["kind"] == "delivery_queued"]
    assert {e["details"]["audience"] for e in queued} == {"police"}  # no owner: nobody else to tell
    stats = client.get("/statistics", headers=officer.headers).json()["response_analytics"]
    assert stats["time_to_acknowledge_p50_ms"] is not None and stats["deliveries"]["pending"] == len(queued)


@pytest.mark.parametrize(
    ("moves", "refused", "current"),
    [
        (["resolve"], "acknowledge", "resolved"),
        (["acknowledge"], "acknowledge", "acknowledged"),
        (["dispatch"], "dispatch", "dispatched"),
        (["false_alarm"], "dispatch", "false_alarm"),
        (["resolve"], "resolve", "resolved"),
    ],
)
def test_illegal_moves_are_conflicts_that_change_nothing(
    client: TestClient, factory: Factory, moves: list[str], refused: str, current: str
) -> None:
    officer = factory.authority()
    incident_id = _report(client, factory)
    bodies = {
        "acknowledge": {},
        "dispatch": {"unit": "P1"},
        "resolve": {},
        "false_alarm": {"outcome": "false_alarm"},
    }
    paths = {"false_alarm": "resolve"}
    for move in moves:
        path = paths.get(move, move)
        assert (
            client.post(
                f"/incidents/{incident_id}/{path}", json=bodies[move], headers=officer.headers
            ).status_code
            == 200
        )
    before = client.get(f"/incidents/{incident_id}/timeline", headers=officer.headers).json()

    response = client.post(f"/incidents/{incident_id}/{paths.get(refused, refused)}", json=bodies[refused],
                           headers=officer.headers)  # fmt: skip

    assert response.status_code == 409
    assert current in response.json()["detail"]
    assert client.get(f"/incidents/{incident_id}/timeline", headers=officer.headers).json() == before


def test_two_officers_acknowledging_at_once_one_wins(client: TestClient, factory: Factory) -> None:
    officers = [factory.authority() for _ in range(4)]
    incident_id = _report(client, factory)

    def acknowledge(officer: Account) -> int:
        return int(client.post(f"/incidents/{incident_id}/acknowledge", headers=officer.headers).status_code)

    with ThreadPoolExecutor(4) as pool:
        codes = sorted(pool.map(acknowledge, officers))

    assert codes == [200, 409, 409, 409]
    entries = client.get(f"/incidents/{incident_id}/timeline", headers=officers[0].headers).json()["entries"]
    assert [e["kind"] for e in entries].count("acknowledged") == 1


def test_lifecycle_input_and_access(client: TestClient, factory: Factory) -> None:
    officer, tourist = factory.authority(), factory.tourist()
    incident_id = _report(client, factory)
    assert (
        client.post(f"/incidents/{incident_id}/dispatch", json={}, headers=officer.headers).status_code == 422
    )
    assert (
        client.post(
            f"/incidents/{incident_id}/resolve", json={"outcome": "maybe"}, headers=officer.headers
        ).status_code
        == 422
    )
    assert client.post("/incidents/INC_NOPE/acknowledge", headers=officer.headers).status_code == 404
    assert client.post(f"/incidents/{incident_id}/acknowledge", headers=tourist.headers).status_code == 403
    assert client.get(f"/incidents/{incident_id}/timeline").status_code == 401


def _share_token(client: TestClient, officer: Account, incident_id: str) -> str:
    rows = client.get("/deliveries", params={"incident_id": incident_id}, headers=officer.headers).json()
    links = {d["id"]: d for d in rows["deliveries"] if d["audience"] == "contact"}
    detail = client.get(f"/deliveries/{min(links)}", headers=officer.headers).json()
    return str(detail["payload"]["share_url"]).rsplit("/", 1)[1]


def test_a_share_link_shows_the_latest_fixes_and_expires_after_resolution(
    client: TestClient, factory: Factory
) -> None:
    officer, owner = factory.authority(), factory.tourist()
    contact = {"name": "Ana", "relation": "sister", "phone": "+33600000002", "email": "ana@example.com"}
    assert client.post("/me/contacts", json=contact, headers=owner.headers).status_code == 201
    fix_time = clock.now() - timedelta(seconds=30)
    fix = {"lat": 48.8584, "lon": 2.2945, "speed": 1.0, "accuracy": 8.0, "timestamp": fix_time.isoformat()}
    assert client.post("/location/update", json=fix, headers=owner.headers).status_code == 200
    incident_id = _report(client, factory, owner=owner, threat_level="HIGH", is_critical=False)
    token = _share_token(client, officer, incident_id)

    shared = client.get(f"/share/{token}")
    assert shared.status_code == 200, shared.text
    assert shared.json()["latest_fixes"][0]["lat"] == 48.8584
    assert shared.json()["incident_id"] == incident_id
    page = client.get(f"/share/{token}/map")
    assert page.status_code == 200 and 'http-equiv="refresh"' in page.text and "48.85840" in page.text
    assert client.get("/share/" + "x" * 43).status_code == 404

    assert (
        client.post(f"/incidents/{incident_id}/resolve", json={}, headers=officer.headers).status_code == 200
    )
    assert client.get(f"/share/{token}").status_code == 200  # the grace period
    with clock.frozen(datetime.now(UTC) + timedelta(hours=1, seconds=5)):
        assert client.get(f"/share/{token}").status_code == 404
        assert client.get(f"/share/{token}/map").status_code == 404
