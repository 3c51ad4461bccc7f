"""The statuses answered around the routes are in the OpenAPI (found by the schemathesis pass, issue 16
item 2): 400 for an unreadable body, 408 for a body too slow, 413 past the body cap, 503 when the database
pool is exhausted, and fair admission's 401/429/503 on device writes."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.factories import Factory


def test_an_unreadable_body_is_a_documented_400(client: TestClient, factory: Factory) -> None:
    admin = factory.admin()
    response = client.post(
        "/zones", content=b"\xe5E\x05'\xff~", headers={**admin.headers, "Content-Type": "application/json"}
    )
    assert response.status_code == 400, response.text
    operations = client.get("/openapi.json").json()["paths"]
    assert "400" in operations["/zones"]["post"]["responses"]
    with_body = [
        (path, method)
        for path, methods in operations.items()
        for method, operation in methods.items()
        if "requestBody" in operation and not {"400", "408", "413"} <= set(operation["responses"])
    ]
    assert with_body == []


def test_a_body_over_the_cap_is_a_documented_413(client: TestClient, factory: Factory) -> None:
    admin = factory.admin()
    oversized = b"{" + b" " * (11 * 1024 * 1024) + b"}"
    response = client.post(
        "/zones", content=oversized, headers={**admin.headers, "Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert "413" in client.get("/openapi.json").json()["paths"]["/zones"]["post"]["responses"]


def test_routes_that_reach_the_database_document_its_503(client: TestClient) -> None:
    operations = client.get("/openapi.json").json()["paths"]
    for path, method in [("/zones/{zone_id}", "get"), ("/threats/report", "post"), ("/auth/login", "post")]:
        assert "503" in operations[path][method]["responses"], (path, method)
    assert "503" not in operations["/dashboard"]["get"]["responses"]


def test_device_writes_document_fair_admission(client: TestClient, factory: Factory) -> None:
    engine = factory.engine_key()
    operations = client.get("/openapi.json").json()["paths"]
    for path in ("/threats/report", "/location/update"):
        answers = operations[path]["post"]["responses"]
        assert {"401", "408", "429", "503"} <= set(answers), path
        assert "Retry-After" in answers["429"]["headers"]
    assert "429" not in operations["/zones"]["post"]["responses"]
    # Over its burst, one key's device writes are answered 429 with Retry-After (tests/core/test_admission).
    statuses = [
        client.post("/threats/report", json={}, headers=engine.headers).status_code for _ in range(40)
    ]
    assert 429 in statuses
