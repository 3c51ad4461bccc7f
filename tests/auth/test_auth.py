"""Accounts: registration, login (JSON and OAuth2 form), tokens, admin-made accounts, engine keys."""

from __future__ import annotations

import os
import stat
from datetime import UTC, datetime, timedelta

import jwt
import sqlalchemy as sa
from fastapi.testclient import TestClient

from safesphere.auth.models import EngineKey, User
from safesphere.core import clock
from safesphere.core.config import Settings
from safesphere.core.db import Database
from safesphere.core.security import TokenService
from tests.factories import PASSWORD, Factory


def test_register_creates_a_tourist_even_if_another_role_is_asked(client: TestClient, db: Database) -> None:
    response = client.post(
        "/auth/register", json={"email": "Ana@Example.com", "password": "longenough", "name": "Ana"}
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["role"] == "tourist"
    assert body["email"] == "ana@example.com"
    assert "password" not in response.text and "password_hash" not in body

    sneaky = client.post(
        "/auth/register", json={"email": "b@example.com", "password": "longenough", "role": "admin"}
    )
    assert sneaky.status_code == 422
    with db.read_session() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(User)) == 1


def test_register_stores_an_argon2_hash(client: TestClient, db: Database) -> None:
    client.post("/auth/register", json={"email": "c@example.com", "password": "longenough"})
    with db.read_session() as session:
        user = session.scalar(sa.select(User))
    assert user is not None
    assert user.password_hash.startswith("$argon2id$")


def test_register_rejects_duplicates_and_bad_input(client: TestClient) -> None:
    assert (
        client.post("/auth/register", json={"email": "d@example.com", "password": "longenough"}).status_code
        == 201
    )
    again = client.post("/auth/register", json={"email": "D@example.com", "password": "longenough"})
    assert again.status_code == 409
    short = client.post("/auth/register", json={"email": "e@example.com", "password": "short"})
    assert short.status_code == 422
    assert short.json()["detail"][0]["loc"] == ["body", "password"]
    bad_email = client.post("/auth/register", json={"email": "not-an-email", "password": "longenough"})
    assert bad_email.status_code == 422
    assert bad_email.json()["detail"][0]["loc"] == ["body", "email"]


def test_login_returns_a_bearer_token_with_the_documented_claims(
    client: TestClient, factory: Factory, settings: Settings
) -> None:
    account = factory.authority()
    response = client.post("/auth/login", json={"email": account.user.email, "password": PASSWORD})
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["role"] == "authority"
    assert body["expires_in"] == settings.access_token_ttl_s
    assert settings.jwt_secret is not None
    claims = jwt.decode(body["access_token"], settings.jwt_secret, algorithms=["HS256"], issuer="safesphere")
    assert claims["sub"] == str(account.user.id)
    assert claims["role"] == "authority"
    assert {"exp", "iat", "iss"} <= set(claims)

    me = client.get("/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200
    assert me.json()["id"] == account.user.id


def test_oauth2_form_login_works_for_the_docs_authorize_button(client: TestClient, factory: Factory) -> None:
    account = factory.tourist()
    response = client.post("/auth/token", data={"username": account.user.email, "password": PASSWORD})
    assert response.status_code == 200
    assert response.json()["role"] == "tourist"


def test_wrong_password_and_unknown_user_get_the_same_401(client: TestClient, factory: Factory) -> None:
    account = factory.tourist()
    wrong = client.post("/auth/login", json={"email": account.user.email, "password": "nope-nope"})
    unknown = client.post("/auth/login", json={"email": "ghost@example.com", "password": "nope-nope"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json() == {"detail": "Incorrect email or password"}


def test_missing_forged_and_expired_tokens_are_not_authenticated(
    client: TestClient, factory: Factory, settings: Settings
) -> None:
    account = factory.tourist()
    assert client.get("/auth/me").json() == {"detail": "Not authenticated"}
    forged = jwt.encode(
        {"sub": str(account.user.id), "role": "admin", "iat": 0, "exp": 2**31, "iss": "safesphere"},
        "some-other-secret-of-sufficient-length!!",
        algorithm="HS256",
    )
    response = client.get("/auth/me", headers={"Authorization": f"Bearer {forged}"})
    assert response.status_code == 401
    assert response.json() == {"detail": "Not authenticated"}
    assert response.headers["www-authenticate"] == "Bearer"

    with clock.frozen(datetime.now(UTC) + timedelta(seconds=settings.access_token_ttl_s + 1)):
        expired = client.get("/auth/me", headers=account.headers)
    assert expired.status_code == 401


def test_deactivated_user_token_stops_working(client: TestClient, factory: Factory, db: Database) -> None:
    account = factory.tourist()
    with db.session() as session:
        session.execute(sa.update(User).where(User.id == account.user.id).values(is_active=False))
        session.commit()
    assert client.get("/auth/me", headers=account.headers).status_code == 401


def test_only_admins_create_authority_accounts(client: TestClient, factory: Factory) -> None:
    body = {"email": "officer@example.com", "password": "longenough", "role": "authority", "name": "Officer"}
    tourist, authority, admin = factory.tourist(), factory.authority(), factory.admin()
    assert client.post("/admin/users", json=body).status_code == 401
    assert client.post("/admin/users", json=body, headers=tourist.headers).status_code == 403
    assert client.post("/admin/users", json=body, headers=authority.headers).status_code == 403
    created = client.post("/admin/users", json=body, headers=admin.headers)
    assert created.status_code == 201
    assert created.json()["role"] == "authority"
    login = client.post("/auth/login", json={"email": body["email"], "password": body["password"]})
    assert login.json()["role"] == "authority"


def test_generated_jwt_secret_is_kept_in_the_data_dir_with_0600(tmp_path: os.PathLike[str]) -> None:
    settings = Settings(data_dir=tmp_path)
    first = TokenService(settings)
    token = first.issue(user_id=1, role="tourist")
    secret_file = settings.data_dir / "jwt_secret"
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert TokenService(settings).decode(token) is not None  # a restart keeps accepting old tokens


def test_engine_key_is_accepted_in_all_three_forms_and_only_its_hash_is_stored(
    client: TestClient, factory: Factory, db: Database
) -> None:
    admin = factory.admin()
    created = client.post("/admin/keys", json={"name": "cam-01"}, headers=admin.headers)
    assert created.status_code == 201
    key = created.json()["key"]
    assert key.startswith("ssk_")
    with db.read_session() as session:
        record = session.scalar(sa.select(EngineKey))
    assert record is not None and key not in (record.key_hash, record.key_prefix)

    listed = client.get("/admin/keys", headers=admin.headers).json()
    assert "key" not in listed[0]

    # An engine key is not a user account.
    assert client.get("/auth/me", headers={"Authorization": f"Bearer {key}"}).status_code == 403
    assert client.get("/auth/me", headers={"X-API-Key": key}).status_code == 403


def test_revoked_engine_key_stops_authenticating(client: TestClient, factory: Factory) -> None:
    admin = factory.admin()
    engine = factory.engine_key(name="cam-02")
    assert client.delete("/admin/keys/cam-02", headers=admin.headers).status_code == 200
    assert client.delete("/admin/keys/nope", headers=admin.headers).status_code == 404
    listed = client.get("/admin/keys", headers=admin.headers).json()
    assert listed[0]["revoked_at"] is not None
    assert engine.key  # the secret exists but is no longer accepted anywhere


def test_the_token_form_states_and_enforces_non_empty_credentials(client: TestClient) -> None:
    """Found by the schemathesis pass: an empty username was refused though the schema allowed it."""
    body = client.get("/openapi.json").json()["components"]["schemas"]["Body_token_auth_token_post"]
    assert body["properties"]["username"]["minLength"] == 1
    assert body["properties"]["password"]["minLength"] == 1
    response = client.post("/auth/token", data={"username": "", "password": "x"})
    assert response.status_code == 422
    assert ["body", "username"] in [error["loc"] for error in response.json()["detail"]]
