"""Hostile numbers, dates and types are a 422 naming the field, never a 500 (issue 16, item 2)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.factories import Factory

TOO_BIG = str(2**63)
CALENDAR_EDGES = ("0001-01-01T00:00:00Z", "0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59Z")


def _field(response_json: dict[str, object]) -> list[object]:
    detail = response_json["detail"]
    assert isinstance(detail, list)
    return [error["loc"][-1] for error in detail]


def test_ids_and_offsets_beyond_64_bits_are_refused(client: TestClient, factory: Factory) -> None:
    admin, tourist = factory.admin(), factory.tourist()
    for method, path, who in [
        ("GET", f"/zones/{TOO_BIG}", admin),
        ("POST", f"/alerts/{TOO_BIG}/acknowledge", admin),
        ("GET", f"/places/{TOO_BIG}", admin),
        ("GET", f"/authority/tourists/{TOO_BIG}", admin),
        ("GET", f"/deliveries/{TOO_BIG}", admin),
        ("DELETE", f"/me/contacts/{TOO_BIG}", tourist),
        ("GET", f"/places?offset={TOO_BIG}", admin),
        ("GET", f"/admin/users?offset={TOO_BIG}", admin),
    ]:
        response = client.request(method, path, headers=who.headers)
        assert response.status_code == 422, (path, response.text)
    assert client.get("/zones/0", headers=admin.headers).status_code == 422


def test_ids_beyond_32_bits_are_refused(client: TestClient, factory: Factory) -> None:
    """PostgreSQL's id columns are INTEGER: 2^31 fits SQLite but was a 500 on PostgreSQL (schemathesis)."""
    admin = factory.admin()
    for path in [f"/zones/{2**31}", f"/places/{2**31}", f"/admin/audit?actor_id={2**31}"]:
        response = client.get(path, headers=admin.headers)
        assert response.status_code == 422, (path, response.text)
    assert client.get(f"/zones/{2**31 - 1}", headers=admin.headers).status_code == 404


def test_a_nul_character_in_text_is_refused_where_it_cannot_be_stored(
    client: TestClient, factory: Factory
) -> None:
    """PostgreSQL stores no NUL in text: a 500 there (schemathesis), now a 422 and nothing stored."""
    admin = factory.admin()
    place = {"name": "Gare\x00", "kind": "police_station", "lat": 48.85, "lon": 2.35}
    response = client.post("/places", json=place, headers=admin.headers)
    if response.status_code == 201:  # SQLite stores a NUL: only PostgreSQL refuses it
        return
    assert response.status_code == 422, response.text
    assert "NUL" in response.text
    assert client.get("/places", headers=admin.headers).json() == []


@pytest.mark.parametrize("edge", CALENDAR_EDGES)
def test_calendar_edges_are_refused(client: TestClient, factory: Factory, edge: str) -> None:
    officer, tourist = factory.authority(), factory.tourist()
    for path, name in [("/incidents", "since"), ("/incidents", "until"), ("/alerts", "since")]:
        response = client.get(path, params={name: edge}, headers=officer.headers)
        assert response.status_code == 422, (path, name, response.text)
        assert _field(response.json()) == [name]
    fix = {"lat": 48.85, "lon": 2.35, "timestamp": edge}
    response = client.post("/location/update", json=fix, headers=tourist.headers)
    assert response.status_code == 422, response.text
    assert _field(response.json()) == ["timestamp"]
    assert client.get("/location/history", headers=tourist.headers).json() == []


def test_live_events_refuse_a_calendar_edge(client: TestClient, factory: Factory) -> None:
    officer = factory.authority()
    response = client.get("/live/events", params={"since": CALENDAR_EDGES[1]}, headers=officer.headers)
    assert response.status_code == 422, response.text


@pytest.mark.parametrize("value", [True, "48.8", None])
def test_coordinates_must_be_json_numbers(client: TestClient, factory: Factory, value: object) -> None:
    tourist = factory.tourist()
    fix = {"lat": value, "lon": 2.35, "timestamp": "2026-02-10T10:00:00Z"}
    response = client.post("/location/update", json=fix, headers=tourist.headers)
    assert response.status_code == 422, response.text
    assert _field(response.json()) == ["lat"]
    sos = client.post(
        "/sos", json={"lat": 48.85, "lon": value if value is not None else "x"}, headers=tourist.headers
    )
    assert sos.status_code == 422 and _field(sos.json()) == ["lon"], sos.text
    assert client.get("/location/history", headers=tourist.headers).json() == []


def test_whole_numbers_are_still_coordinates(client: TestClient, factory: Factory) -> None:
    tourist = factory.tourist()
    fix = {"lat": 48, "lon": 2, "timestamp": "2026-02-10T10:00:00Z"}
    assert client.post("/location/update", json=fix, headers=tourist.headers).status_code == 200
