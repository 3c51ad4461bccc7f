"""GET /health: healthy with a live database, 503 when it does not answer."""

from __future__ import annotations

from fastapi.testclient import TestClient

from safesphere.core.db import Database


def test_health_is_public_and_healthy(client: TestClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "healthy"
    assert body["service"] == "SafeSphere Threat Management API"
    assert body["timestamp"].endswith("+00:00")


def test_health_is_unhealthy_when_the_database_does_not_answer(client: TestClient, db: Database) -> None:
    db.health_engine.dispose()  # /health pings on its own connection
    url = db.health_engine.url
    import sqlalchemy as sa

    db.health_engine = sa.create_engine(
        url.set(database="/nonexistent/dir/x.db") if url.get_backend_name() == "sqlite" else url.set(port=1)
    )
    response = client.get("/health")
    assert response.status_code == 503
    assert response.json()["status"] == "unhealthy"
