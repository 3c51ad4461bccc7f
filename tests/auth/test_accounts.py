"""Changing a password, and an admin managing accounts: each change takes effect on the account's tokens."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from safesphere.cli import app as cli
from safesphere.core import clock
from safesphere.core.config import Settings
from tests.factories import PASSWORD, Account, Factory
from tests.support.live import settings_env

NEW_PASSWORD = "a-brand-new-passphrase"


def _login(client: TestClient, email: str, password: str) -> int:
    return int(client.post("/auth/login", json={"email": email, "password": password}).status_code)


def _me(client: TestClient, headers: dict[str, str]) -> int:
    return int(client.get("/auth/me", headers=headers).status_code)


def test_changing_a_password_ends_every_earlier_session(client: TestClient, factory: Factory) -> None:
    officer = factory.authority()
    second = client.post("/auth/login", json={"email": officer.user.email, "password": PASSWORD})
    other_device = {"Authorization": f"Bearer {second.json()['access_token']}"}
    with clock.frozen(clock.now() + timedelta(seconds=2)):  # a later second than the tokens above
        changed = client.post(
            "/auth/password",
            json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
            headers=officer.headers,
        )
        assert changed.status_code == 200, changed.text
        fresh = {"Authorization": f"Bearer {changed.json()['access_token']}"}
        assert _me(client, officer.headers) == 401
        assert _me(client, other_device) == 401
        assert _me(client, fresh) == 200
    assert _login(client, officer.user.email, PASSWORD) == 401
    assert _login(client, officer.user.email, NEW_PASSWORD) == 200


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"current_password": "not-mine", "new_password": NEW_PASSWORD}, "current_password", "not correct"),
        ({"current_password": PASSWORD, "new_password": PASSWORD}, "new_password", "must differ"),
        ({"current_password": PASSWORD, "new_password": "short"}, "new_password", "at least 8"),
    ],
)
def test_a_refused_password_change_names_the_field_and_changes_nothing(
    client: TestClient, factory: Factory, body: dict[str, str], field: str, message: str
) -> None:
    tourist = factory.tourist()
    refused = client.post("/auth/password", json=body, headers=tourist.headers)
    assert refused.status_code == 422
    detail = refused.json()["detail"][0]
    assert detail["loc"] == ["body", field]
    assert message in detail["msg"]
    assert _me(client, tourist.headers) == 200
    assert _login(client, tourist.user.email, PASSWORD) == 200


def _patch(client: TestClient, admin: Account, user_id: int, **body: object) -> tuple[int, dict[str, object]]:
    response = client.patch(f"/admin/users/{user_id}", json=body, headers=admin.headers)
    return response.status_code, response.json()


def test_an_admin_deactivates_reactivates_re_roles_and_resets_an_account(
    client: TestClient, factory: Factory
) -> None:
    admin, officer = factory.admin(), factory.authority()

    status, body = _patch(client, admin, officer.user.id, is_active=False)
    assert (status, body["is_active"]) == (200, False)
    assert _me(client, officer.headers) == 401
    assert _login(client, officer.user.email, PASSWORD) == 401

    assert _patch(client, admin, officer.user.id, is_active=True)[0] == 200
    assert _me(client, officer.headers) == 200  # reactivation alone ends nothing

    with clock.frozen(clock.now() + timedelta(seconds=2)):
        status, body = _patch(client, admin, officer.user.id, role="admin", password=NEW_PASSWORD)
        assert (status, body["role"]) == (200, "admin")
        assert _me(client, officer.headers) == 401  # its token still said authority
    assert _login(client, officer.user.email, NEW_PASSWORD) == 200


def test_an_admin_cannot_lock_themself_out_and_unknown_or_empty_changes_are_refused(
    client: TestClient, factory: Factory
) -> None:
    admin = factory.admin()
    for change in ({"is_active": False}, {"role": "authority"}):
        status, body = _patch(client, admin, admin.user.id, **change)
        assert (status, body) == (409, {"detail": "An admin cannot deactivate or demote their own account"})
    assert _patch(client, admin, 999_999, is_active=False) == (404, {"detail": "No such user"})
    status, body = _patch(client, admin, admin.user.id)
    assert status == 422 and "give is_active, role or password" in str(body)
    status, body = _patch(client, admin, admin.user.id, role="superuser")
    assert status == 422 and body["detail"][0]["loc"] == ["body", "role"]  # type: ignore[index]
    assert _me(client, admin.headers) == 200


def test_the_operator_can_reset_an_account_from_the_command_line(
    client: TestClient, factory: Factory, settings: Settings
) -> None:
    admin = factory.admin()
    runner, env = CliRunner(), settings_env(settings)

    locked = runner.invoke(cli, ["users", "update", admin.user.email, "--inactive"], env=env)
    assert locked.exit_code == 0, locked.output
    assert _login(client, admin.user.email, PASSWORD) == 401

    reset = runner.invoke(
        cli, ["users", "update", admin.user.email, "--active", "--password", NEW_PASSWORD], env=env
    )
    assert reset.exit_code == 0, reset.output
    assert "Updated admin" in reset.output and "(active)" in reset.output
    assert _login(client, admin.user.email, NEW_PASSWORD) == 200

    unknown = runner.invoke(cli, ["users", "update", "ghost@example.com", "--inactive"], env=env)
    assert unknown.exit_code == 1 and "No account has the e-mail address" in unknown.output
    nothing = runner.invoke(cli, ["users", "update", admin.user.email], env=env)
    assert nothing.exit_code == 1 and "give is_active, role or password" in nothing.output
