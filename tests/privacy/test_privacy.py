"""A tourist's own data: the export holds all of it and only theirs; deleting the account removes the
profile, fixes and contacts, keeps the alerts they raised for the police without who or what, and both
are audited."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi.testclient import TestClient

from safesphere.alerts.models import Alert
from safesphere.auth.models import EngineKey, User
from safesphere.core import clock
from safesphere.core.db import Database
from safesphere.incidents.models import Incident, ShareLink
from safesphere.tracking.models import EmergencyContact, LocationFix, TouristStatus
from tests.factories import PASSWORD, Account, Factory
from tests.incidents.reports import report_body
from tests.tracking.fixtures import MINUTE, SPOT, send_fix

CONTACT = {"name": "Mum", "relation": "mother", "phone": "+34 611 111 111", "email": "mum@example.com"}


def _tourist_with_data(client: TestClient, factory: Factory) -> tuple[Account, str]:
    """A tourist with two fixes, a contact, an SOS, a warning about a threat near them, and an incident of
    their own camera with a share link."""
    tourist = factory.tourist(name="Ana Example")
    now = clock.now()
    send_fix(client, tourist, now - 2 * MINUTE, lat=SPOT[0] + 0.001, lon=SPOT[1])
    send_fix(client, tourist, now - MINUTE, lat=SPOT[0] + 0.002, lon=SPOT[1])
    assert client.post("/me/contacts", json=CONTACT, headers=tourist.headers).status_code == 201
    sos = client.post("/sos", json={"message": "Ana is being followed"}, headers=tourist.headers)
    assert sos.status_code == 201, sos.text
    camera = factory.engine_key(owner=tourist, latitude=SPOT[0], longitude=SPOT[1])
    body = report_body(threat_level="HIGH", timestamp=now.isoformat())
    assert client.post("/threats/report", json=body, headers=camera.headers).status_code == 200
    return tourist, str(body["incident_id"])


def test_the_export_holds_all_of_the_tourists_data_and_nobody_elses(
    client: TestClient, factory: Factory
) -> None:
    tourist, incident_id = _tourist_with_data(client, factory)
    other = factory.tourist()
    send_fix(client, other, clock.now(), lat=SPOT[0], lon=SPOT[1])

    response = client.get("/me/export", headers=tourist.headers)

    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    data = response.json()
    assert data["profile"]["email"] == tourist.user.email
    assert data["profile"]["name"] == "Ana Example"
    assert [round(f["latitude"], 3) for f in data["fixes"]] == [
        round(SPOT[0] + 0.001, 3),
        round(SPOT[0] + 0.002, 3),
    ]
    assert all(f["safety_score"] is not None for f in data["fixes"])
    assert data["status"]["tourist_safety_score"] is not None
    assert [(c["name"], c["phone"], c["email"]) for c in data["contacts"]] == [
        ("Mum", CONTACT["phone"], CONTACT["email"])
    ]
    assert {a["type"] for a in data["alerts"]} >= {"sos"}
    assert all(a["tourist_id"] == tourist.user.id for a in data["alerts"])
    assert [i["incident_id"] for i in data["incidents"]] == [incident_id]
    assert [s["incident_id"] for s in data["shares"]] == [incident_id]
    assert other.user.email not in response.text

    admin = factory.admin()
    audit = client.get("/admin/audit", params={"action": "user.exported"}, headers=admin.headers).json()
    assert [(e["actor_id"], e["target_id"]) for e in audit] == [(tourist.user.id, str(tourist.user.id))]


def _count(db: Database, model: type, *where: object) -> int:
    with db.read_session() as session:
        return session.scalar(sa.select(sa.func.count()).select_from(model).where(*where)) or 0  # type: ignore[arg-type]


def test_deleting_the_account_removes_personal_data_and_keeps_anonymised_alerts_for_police(
    client: TestClient, factory: Factory, db: Database
) -> None:
    tourist, incident_id = _tourist_with_data(client, factory)
    user_id = tourist.user.id
    officer = factory.authority()
    sos_id = next(a["alert_id"] for a in client.get("/me/alerts", headers=tourist.headers).json()
                  if a["type"] == "sos")  # fmt: skip

    wrong = client.request("DELETE", "/me", json={"password": "not-it"}, headers=tourist.headers)
    assert (wrong.status_code, wrong.json()["detail"][0]["loc"]) == (422, ["body", "password"])
    assert _count(db, LocationFix, LocationFix.tourist_id == user_id) == 2
    assert client.request("DELETE", "/me", headers=tourist.headers).status_code == 422  # no confirmation

    gone = client.request("DELETE", "/me", json={"password": PASSWORD}, headers=tourist.headers)

    assert gone.status_code == 204, gone.text
    assert gone.headers["cache-control"] == "no-store"
    assert client.get("/me/profile", headers=tourist.headers).status_code == 401
    login = client.post("/auth/login", json={"email": tourist.user.email, "password": PASSWORD})
    assert login.status_code == 401
    for model, column in (
        (User, User.id),
        (LocationFix, LocationFix.tourist_id),
        (TouristStatus, TouristStatus.tourist_id),
        (EmergencyContact, EmergencyContact.user_id),
        (ShareLink, ShareLink.owner_id),
        (Alert, Alert.tourist_id),
    ):
        assert _count(db, model, column == user_id) == 0, model
    sos = client.get("/alerts", params={"type": "sos"}, headers=officer.headers).json()
    kept = next(a for a in sos if a["alert_id"] == sos_id)
    assert kept["tourist_id"] is None
    assert "Ana" not in str(kept) and "followed" not in str(kept)
    with db.read_session() as session:
        assert session.scalar(sa.select(Incident.owner_id).where(Incident.incident_id == incident_id)) is None
        assert session.scalar(sa.select(EngineKey.revoked_at).where(EngineKey.owner_id.is_(None))) is not None

    admin = factory.admin()
    audit = client.get("/admin/audit", params={"action": "user.deleted"}, headers=admin.headers).json()
    assert [(e["actor_id"], e["target_id"]) for e in audit] == [(user_id, str(user_id))]
    assert audit[0]["details"]["fixes"] == 2
    assert audit[0]["details"]["contacts"] == 1
    assert CONTACT["phone"] not in str(audit) and tourist.user.email not in str(audit)
