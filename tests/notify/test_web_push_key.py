"""One Web Push key per installation: instances with data directories of their own, on one database, sign
with the same VAPID key, so a device subscribed through one is reached through any (issue 18, item 3)."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from fastapi.testclient import TestClient
from pydantic import SecretStr

from safesphere.app import create_app
from safesphere.core.config import Settings
from safesphere.core.db import Database
from safesphere.notify.models import WebPushKey
from safesphere.notify.webpush import VAPID_KEY_FILE_NAME, new_private_key_pem

SHARED_FIELD_KEY = Fernet.generate_key().decode("ascii")


def _instance(settings: Settings, data_dir: Path) -> Settings:
    """Another instance on the same database: its own data directory, the installation's field key."""
    data_dir.mkdir(exist_ok=True)
    return settings.model_copy(
        update={
            "data_dir": data_dir,
            "database_url": settings.resolved_database_url,
            "field_encryption_key": settings.field_encryption_key or SecretStr(SHARED_FIELD_KEY),
        }
    )


def _public_key(settings: Settings) -> str:
    with TestClient(create_app(settings)) as client:
        response = client.get("/push/key")
    assert response.status_code == 200, response.text
    return str(response.json()["public_key"])


@pytest.mark.parametrize("settings_overrides", [{"field_encryption_key": SHARED_FIELD_KEY}])
def test_instances_with_their_own_data_directories_sign_with_one_key(
    settings: Settings, tmp_path: Path
) -> None:
    """(No app runs on the test's database before these two.)"""
    first, second = _instance(settings, tmp_path / "a"), _instance(settings, tmp_path / "b")
    # The first instance grew from a single-host installation: its key is kept (its devices stay reachable).
    grown = new_private_key_pem()
    (first.data_dir / VAPID_KEY_FILE_NAME).write_bytes(grown)
    # The second generated a key of its own before it joined: the installation's replaces it.
    (second.data_dir / VAPID_KEY_FILE_NAME).write_bytes(new_private_key_pem())

    key = _public_key(first)
    assert _public_key(second) == key
    assert (second.data_dir / VAPID_KEY_FILE_NAME).read_bytes() == grown
    assert (second.data_dir / VAPID_KEY_FILE_NAME).stat().st_mode & 0o777 == 0o600
    assert _public_key(first) == key, "a restart keeps the key"

    database = Database(first)
    try:
        with database.read_session() as session:
            stored = session.get_one(WebPushKey, 1)
    finally:
        database.dispose()
    assert b"PRIVATE KEY" not in stored.private_key.encode(), "the private key is stored encrypted"


@pytest.mark.parametrize("settings_overrides", [{"field_encryption_key": SHARED_FIELD_KEY}])
def test_an_instance_with_another_field_key_still_starts_and_says_why(
    settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = _instance(settings, tmp_path / "a")
    _public_key(first)
    astray = first.model_copy(
        update={
            "data_dir": tmp_path / "b",
            "field_encryption_key": SecretStr(Fernet.generate_key().decode("ascii")),
        }
    )
    astray.data_dir.mkdir()
    with TestClient(create_app(astray)) as client:
        assert client.get("/health").status_code == 200
        assert client.get("/push/key").status_code == 200
    assert "Web Push key cannot be read" in capsys.readouterr().err
