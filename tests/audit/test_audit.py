"""The audit log: every accountable action leaves one entry in the action's own transaction, admins read
and filter it, nothing can change or delete an entry, and no entry holds a secret."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from PIL import Image

from safesphere.audit import service as audit
from safesphere.audit.models import AuditAction, AuditEntry
from safesphere.core import clock
from safesphere.core.db import Database
from tests.factories import PASSWORD, Account, Factory
from tests.incidents.reports import report_body

ZONE = {"name": "Old town", "type": "risky", "center": {"lat": 48.137, "lon": 11.575}, "radius_km": 0.5}


def _entries(client: TestClient, admin: Account, **params: object) -> list[dict[str, object]]:
    response = client.get("/admin/audit", params=params, headers=admin.headers)
    assert response.status_code == 200, response.text
    entries: list[dict[str, object]] = response.json()
    return entries


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), "blue").save(buffer, "PNG")
    return buffer.getvalue()


def _incident_with_evidence(client: TestClient, factory: Factory) -> tuple[str, int]:
    engine = factory.engine_key()
    body = report_body()
    assert client.post("/threats/report", json=body, headers=engine.headers).status_code == 200
    files = {"file": ("shot.png", _png(), "image/png")}
    upload = client.post(
        "/upload/screenshot", data={"incident_id": body["incident_id"]}, files=files, headers=engine.headers
    )
    assert upload.status_code == 200, upload.text
    return str(body["incident_id"]), int(upload.json()["evidence"]["evidence_id"])


def test_accountable_actions_are_logged_with_actor_and_target_and_no_secret(
    client: TestClient, factory: Factory
) -> None:
    admin, officer = factory.admin(), factory.authority()
    wrong = client.post("/auth/login", json={"email": officer.user.email, "password": "not-the-password"})
    assert wrong.status_code == 401
    created = client.post(
        "/admin/users",
        json={"email": "new.officer@example.com", "password": "a-long-enough-pass", "role": "tourist"},
        headers=admin.headers,
    )
    new_id = created.json()["id"]
    promoted = client.patch(f"/admin/users/{new_id}", json={"role": "authority"}, headers=admin.headers)
    assert promoted.status_code == 200, promoted.text
    key = client.post("/admin/keys", json={"name": "cam-audit"}, headers=admin.headers).json()
    assert client.delete("/admin/keys/cam-audit", headers=admin.headers).status_code == 200
    incident_id, evidence_id = _incident_with_evidence(client, factory)
    for move, body in (("acknowledge", {}), ("dispatch", {"unit": "Car 7"}), ("resolve", {})):
        done = client.post(f"/incidents/{incident_id}/{move}", json=body, headers=officer.headers)
        assert done.status_code == 200, done.text
    assert client.get(f"/evidence/{evidence_id}", headers=officer.headers).status_code == 200
    zone = client.post("/zones", json=ZONE, headers=officer.headers).json()
    client.patch(f"/zones/{zone['id']}", json={"name": "Old town (night)"}, headers=officer.headers)
    assert client.delete(f"/zones/{zone['id']}", headers=officer.headers).status_code == 204

    response = client.get("/admin/audit", params={"limit": 1000}, headers=admin.headers)
    entries = response.json()
    seen = [(e["action"], e["actor_id"], e["target_type"], e["target_id"]) for e in reversed(entries)]
    for expected in (
        ("auth.login", officer.user.id, "user", str(officer.user.id)),
        ("auth.login_failed", None, "user", str(officer.user.id)),
        ("user.created", admin.user.id, "user", str(new_id)),
        ("user.updated", admin.user.id, "user", str(new_id)),
        ("engine_key.created", admin.user.id, "engine_key", str(key["id"])),
        ("engine_key.revoked", admin.user.id, "engine_key", str(key["id"])),
        ("incident.acknowledged", officer.user.id, "incident", incident_id),
        ("incident.dispatched", officer.user.id, "incident", incident_id),
        ("incident.resolved", officer.user.id, "incident", incident_id),
        ("evidence.downloaded", officer.user.id, "evidence", str(evidence_id)),
        ("zone.created", officer.user.id, "zone", str(zone["id"])),
        ("zone.updated", officer.user.id, "zone", str(zone["id"])),
        ("zone.deleted", officer.user.id, "zone", str(zone["id"])),
    ):
        assert expected in seen, expected
    role_change = next(e for e in entries if e["action"] == "user.updated")
    assert role_change["details"] == {"role": {"from": "tourist", "to": "authority"}}
    failed = next(e for e in entries if e["action"] == "auth.login_failed")
    assert failed["address"] == "testclient"
    for secret in (PASSWORD, "not-the-password", "a-long-enough-pass", key["key"], officer.token):
        assert secret not in response.text
    assert response.headers["cache-control"] == "no-store"


def test_admins_filter_by_actor_action_target_and_time_and_page_newest_first(
    client: TestClient, factory: Factory
) -> None:
    admin = factory.admin()
    first, second = factory.authority(), factory.authority()
    t0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    for n, officer in enumerate((first, second, first)):
        with clock.frozen(t0 + timedelta(hours=n)):
            client.post("/zones", json=ZONE | {"name": f"zone {n}"}, headers=officer.headers)

    mine = _entries(client, admin, actor_id=first.user.id, action="zone.created")
    assert [e["details"]["name"] for e in mine] == ["zone 2", "zone 0"]  # type: ignore[index]
    by_prefix = _entries(client, admin, action="zone.")
    assert len(by_prefix) == 3
    window = _entries(client, admin, action="zone.created", since=t0.isoformat(),
                      until=(t0 + timedelta(hours=2)).isoformat())  # fmt: skip
    assert [e["details"]["name"] for e in window] == ["zone 1", "zone 0"]  # type: ignore[index]
    naive = _entries(
        client, admin, action="zone.created", since="2026-03-01T13:00:00"
    )  # the default zone, UTC
    assert [e["details"]["name"] for e in naive] == ["zone 2", "zone 1"]  # type: ignore[index]
    zone_id = window[0]["target_id"]
    assert [e["target_id"] for e in _entries(client, admin, target_type="zone", target_id=zone_id)] == [
        zone_id
    ]
    page = _entries(client, admin, action="zone.created", limit=1, offset=1)
    assert [e["details"]["name"] for e in page] == ["zone 1"]  # type: ignore[index]
    bad = client.get("/admin/audit", params={"actor_id": 0}, headers=admin.headers)
    assert bad.status_code == 422


def test_a_refused_action_leaves_no_entry(client: TestClient, factory: Factory) -> None:
    admin, officer = factory.admin(), factory.authority()
    engine = factory.engine_key()
    body = report_body()
    client.post("/threats/report", json=body, headers=engine.headers)
    resolved = client.post(f"/incidents/{body['incident_id']}/resolve", json={}, headers=officer.headers)
    assert resolved.status_code == 200
    again = client.post(f"/incidents/{body['incident_id']}/acknowledge", json={}, headers=officer.headers)
    assert again.status_code == 409
    assert [e["action"] for e in _entries(client, admin, target_type="incident")] == ["incident.resolved"]


def test_the_log_is_append_only_in_the_database(db: Database, factory: Factory) -> None:
    factory.authority()  # its creation and login are entries
    with db.session() as session:
        audit.record(session, AuditAction.zones_imported, count=1)
        session.commit()
    for statement in (
        sa.update(AuditEntry).values(action="auth.nothing"),
        sa.delete(AuditEntry),
    ):
        with db.session() as session, pytest.raises(sa.exc.DBAPIError, match="append-only"):
            session.execute(statement)
    with db.read_session() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == 3


def test_a_detail_that_could_carry_a_secret_is_refused(db: Database) -> None:
    with db.session() as session, pytest.raises(ValueError, match="secrets"):
        audit.record(session, AuditAction.key_created, api_key="ssk_x")
