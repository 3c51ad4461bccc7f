"""Failed-login throttling: per account and client address, per address, shared by every process."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from safesphere.app import create_app
from safesphere.auth.models import LoginFailure
from safesphere.core import clock
from safesphere.core.config import Settings
from safesphere.core.db import Database
from tests.factories import PASSWORD, Factory
from tests.support.live import LiveServer

OFFICE = ("198.51.100.10", 40000)
ATTACKER = ("203.0.113.66", 40000)


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {
        "login_max_failures": 3,
        "login_max_failures_per_address": 8,
        "login_failure_window_s": 600,
        "login_lockout_s": 300,
    }


@pytest.fixture
def clients(settings: Settings, app_client: TestClient) -> Iterator[dict[str, TestClient]]:
    """The running app seen from two addresses (as uvicorn reports the peer, or a trusted proxy's
    X-Forwarded-For)."""
    app = app_client.app  # already started by app_client: these clients only send requests
    yield {"office": TestClient(app, client=OFFICE), "attacker": TestClient(app, client=ATTACKER)}


def _login(client: TestClient, email: str, password: str, *, form: bool = False) -> int:
    if form:
        return int(client.post("/auth/token", data={"username": email, "password": password}).status_code)
    return int(client.post("/auth/login", json={"email": email, "password": password}).status_code)


def test_wrong_passwords_lock_that_account_from_that_address_only(
    clients: dict[str, TestClient], factory: Factory
) -> None:
    officer = factory.authority().user.email
    attacker, office = clients["attacker"], clients["office"]

    assert [_login(attacker, officer, f"guess-{n}") for n in range(3)] == [401, 401, 401]
    locked = attacker.post("/auth/login", json={"email": officer, "password": PASSWORD})
    assert locked.status_code == 429  # even the right password: a locked pair is not checked
    assert locked.json() == {"detail": "Too many failed logins; try again in 300 seconds"}
    assert locked.headers["retry-after"] == "300"
    assert _login(attacker, officer.upper(), PASSWORD, form=True) == 429  # same account, other route

    assert _login(office, officer, PASSWORD) == 200  # the officer at the desk is not locked out


def test_the_lock_ends_after_the_lockout_and_a_success_clears_the_count(
    clients: dict[str, TestClient], factory: Factory
) -> None:
    email = factory.tourist().user.email
    client = clients["office"]
    assert [_login(client, email, "wrong-pass") for _ in range(3)] == [401, 401, 401]
    assert _login(client, email, PASSWORD) == 429

    with clock.frozen(clock.now() + timedelta(seconds=299)):
        assert _login(client, email, PASSWORD) == 429
    with clock.frozen(clock.now() + timedelta(seconds=301)) as later:
        assert _login(client, email, PASSWORD) == 200
        # The success cleared the pair: two more failures are not yet a lock.
        assert [_login(client, email, "wrong-pass") for _ in range(2)] == [401, 401]
        assert _login(client, email, PASSWORD) == 200
        # A fresh window after the old one ended: failures from before it no longer count.
        assert [_login(client, email, "wrong-pass") for _ in range(2)] == [401, 401]
        later.advance(seconds=601)
        assert [_login(client, email, "wrong-pass") for _ in range(2)] == [401, 401]
        assert _login(client, email, PASSWORD) == 200


def test_one_address_trying_many_accounts_is_locked_and_unknown_accounts_count_the_same(
    clients: dict[str, TestClient], factory: Factory
) -> None:
    real = factory.tourist().user.email
    attacker = clients["attacker"]
    tried = [_login(attacker, f"nobody{n}@example.com", "wrong-pass") for n in range(8)]
    assert tried == [401] * 8
    response = attacker.post("/auth/login", json={"email": real, "password": PASSWORD})
    assert response.status_code == 429
    assert int(response.headers["retry-after"]) == 300
    assert _login(clients["office"], real, PASSWORD) == 200


def test_failures_counted_by_two_server_processes_add_up(
    settings: Settings, factory: Factory, clients: dict[str, TestClient]
) -> None:
    email = factory.tourist().user.email
    with TestClient(create_app(settings), client=ATTACKER) as second_process:
        assert _login(clients["attacker"], email, "wrong-pass") == 401
        assert _login(second_process, email, "wrong-pass") == 401
        assert _login(clients["attacker"], email, "wrong-pass") == 401
        assert _login(second_process, email, PASSWORD) == 429


def test_the_counters_keep_no_email_or_address(clients: dict[str, TestClient], db: Database) -> None:
    email = "someone@example.com"
    assert _login(clients["attacker"], email, "wrong-pass") == 401
    with db.read_session() as session:
        rows = session.execute(sa.select(LoginFailure.key_hash, LoginFailure.failures)).all()
    assert len(rows) == 2  # the account-and-address pair, and the address
    assert all(failures == 1 for _, failures in rows)
    for key_hash, _ in rows:
        assert len(key_hash) == 64 and int(key_hash, 16) >= 0
        assert "someone" not in key_hash and ATTACKER[0] not in key_hash


def test_old_counters_are_dropped_when_failures_are_counted(
    clients: dict[str, TestClient], db: Database
) -> None:
    assert _login(clients["attacker"], "first@example.com", "wrong-pass") == 401
    with clock.frozen(clock.now() + timedelta(seconds=600 + 300 + 1)):
        assert _login(clients["office"], "second@example.com", "wrong-pass") == 401
    with db.read_session() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(LoginFailure)) == 2  # only the new


def _login_via_proxy(url: str, client_address: str) -> int:
    body = {"email": "someone@example.com", "password": "wrong-pass"}
    headers = {"X-Forwarded-For": client_address}
    return httpx.post(f"{url}/auth/login", json=body, headers=headers, timeout=10).status_code


@pytest.mark.parametrize(
    ("trusted", "second_client"),
    [("127.0.0.1", 401), ("192.0.2.1", 429)],
    ids=["behind-a-trusted-proxy", "proxy-not-trusted"],
)
def test_serve_counts_the_client_a_trusted_proxy_names(
    settings: Settings, trusted: str, second_client: int
) -> None:
    """Told to trust the proxy on loopback (the tests), serve counts each forwarded client on its own;
    told to trust only another proxy, it ignores the header and counts the proxy's address."""
    env = {
        "SAFESPHERE_FORWARDED_ALLOW_IPS": trusted,
        "SAFESPHERE_LOGIN_MAX_FAILURES": "2",
        "SAFESPHERE_LOGIN_MAX_FAILURES_PER_ADDRESS": "2",
    }
    with LiveServer(settings, extra_env=env, serve_command=True) as server:
        assert [_login_via_proxy(server.url, "203.0.113.5") for _ in range(2)] == [401, 401]
        assert _login_via_proxy(server.url, "203.0.113.5") == 429
        assert _login_via_proxy(server.url, "198.51.100.9") == second_client


def test_by_default_no_proxy_is_trusted_so_rotating_x_forwarded_for_is_throttled(settings: Settings) -> None:
    """Out of the box a local client cannot pose as 60 addresses: each guess counts against loopback."""
    env = {"SAFESPHERE_FORWARDED_ALLOW_IPS": Settings.model_fields["forwarded_allow_ips"].default}
    with LiveServer(settings, extra_env=env, serve_command=True) as server:
        answers = [_login_via_proxy(server.url, f"203.0.113.{n}") for n in range(1, 61)]
    assert 429 in answers
    assert answers[-1] == 429
