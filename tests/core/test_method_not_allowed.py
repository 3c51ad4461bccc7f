"""A 405 names every method the path takes (found by the schemathesis pass, issue 16 item 2)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.factories import Factory


def test_allow_lists_every_method_of_the_path(client: TestClient, factory: Factory) -> None:
    admin = factory.admin()
    for method, path, allowed in [
        ("PUT", "/zones/1", "DELETE, GET, PATCH"),
        ("PUT", "/zones", "GET, POST"),
        ("GET", "/admin/channels/1", "DELETE, PATCH"),
        ("GET", "/incidents/INC_1/legal-hold", "DELETE, POST"),
        ("DELETE", "/me/profile", "GET, PUT"),
        # A literal path is its own resource, not an id of its neighbour /zones/{zone_id}.
        ("OPTIONS", "/zones/export.geojson", "GET"),
        ("PUT", "/places/import", "POST"),
        ("OPTIONS", "/places/safe-route", "GET"),
    ]:
        response = client.request(method, path, headers=admin.headers)
        assert response.status_code == 405, (method, path, response.text)
        assert response.headers["allow"] == allowed, (method, path)
        assert response.json() == {"detail": "Method Not Allowed"}
    assert client.get("/zones/999999", headers=admin.headers).status_code == 404


def test_a_literal_path_is_not_read_as_an_id(client: TestClient, factory: Factory) -> None:
    """PATCH /zones/import is a method the import does not take (405), not a zone id that is no integer
    (422 "zone_id"), found by the schemathesis pass (ST204)."""
    admin = factory.admin()
    for method, path, allowed in [
        ("PATCH", "/zones/import", "POST"),
        ("DELETE", "/zones/export.geojson", "GET"),
        ("PATCH", "/places/safe-route", "GET"),
        ("GET", "/places/import", "POST"),
    ]:
        response = client.request(method, path, headers=admin.headers, json={})
        assert response.status_code == 405, (method, path, response.text)
        assert response.headers["allow"] == allowed
    assert client.get("/zones/abc", headers=admin.headers).status_code == 404
