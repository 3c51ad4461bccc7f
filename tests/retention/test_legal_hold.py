"""Legal hold: an incident an admin holds keeps its records and evidence files through the real purge,
until released; both moves are audited."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from safesphere.core import clock
from safesphere.core.config import Settings
from safesphere.core.db import Database
from safesphere.evidence.models import Evidence
from safesphere.incidents.models import Incident
from safesphere.retention.service import purge
from tests.factories import Factory
from tests.retention.test_retention import LONG_AGO, NOW, _incident


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"retention_fix_days": 90, "retention_closed_days": 365}


def test_a_held_incident_and_its_evidence_survive_the_purge_until_released(
    client: TestClient, factory: Factory, db: Database, settings: Settings
) -> None:
    held = _incident(client, factory, at=LONG_AGO, resolve=True, evidence=True)
    _incident(client, factory, at=LONG_AGO, resolve=True)  # not held: purged
    admin = factory.admin()
    placed = client.post(
        f"/incidents/{held}/legal-hold", json={"reason": "Case 2026/114"}, headers=admin.headers
    )
    assert placed.status_code == 201, placed.text
    assert placed.json()["placed_by"] == admin.user.id
    files = list(settings.evidence_dir.rglob("*.png"))
    assert len(files) == 1

    with clock.frozen(NOW):
        purged = purge(database=db, settings=settings)

    assert purged.incidents == 1
    with db.read_session() as session:
        assert set(session.scalars(sa.select(Incident.incident_id))) == {held}
        assert session.scalar(sa.select(sa.func.count()).select_from(Evidence)) == 1
    assert files[0].exists()

    assert client.delete(f"/incidents/{held}/legal-hold", headers=admin.headers).status_code == 204
    with clock.frozen(NOW + timedelta(days=1)):
        purged = purge(database=db, settings=settings)
    assert (purged.incidents, purged.evidence_files) == (1, 1)
    assert not files[0].exists()

    audit = client.get("/admin/audit", params={"target_id": held}, headers=admin.headers).json()
    assert [(e["action"], e["actor_id"]) for e in audit][:2] == [
        ("incident.legal_hold_released", admin.user.id),
        ("incident.legal_hold_placed", admin.user.id),
    ]
    assert audit[1]["details"] == {"reason": "Case 2026/114"}


def test_hold_errors_are_clear_and_only_admins_hold(client: TestClient, factory: Factory) -> None:
    incident = _incident(client, factory, at=LONG_AGO, resolve=False)
    admin, officer = factory.admin(), factory.authority()
    path = f"/incidents/{incident}/legal-hold"
    assert client.post(path, json={"reason": "x"}, headers=officer.headers).status_code == 403
    assert client.post(path, json={"reason": ""}, headers=admin.headers).status_code == 422
    missing = client.post("/incidents/INC_NOPE/legal-hold", json={"reason": "x"}, headers=admin.headers)
    assert missing.status_code == 404
    assert client.post(path, json={"reason": "x"}, headers=admin.headers).status_code == 201
    twice = client.post(path, json={"reason": "y"}, headers=admin.headers)
    assert (twice.status_code, twice.json()["detail"]) == (409, "This incident is already on legal hold")
    assert client.delete(path, headers=admin.headers).status_code == 204
    released = client.delete(path, headers=admin.headers)
    assert (released.status_code, released.json()["detail"]) == (404, "This incident has no legal hold")
