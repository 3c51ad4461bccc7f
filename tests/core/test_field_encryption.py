"""Emergency contacts' phone and e-mail are encrypted at rest: the raw column holds no plaintext, the API
and the deliveries to the contacts see plaintext, the key is generated 0600 or taken from settings, and
the migration encrypts rows written before it."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet
from fastapi.testclient import TestClient

from safesphere.core import migrate
from safesphere.core.backup import back_up
from safesphere.core.config import Settings
from safesphere.core.db import Database
from safesphere.core.encryption import KEY_FILE_NAME, PREFIX, FieldCipher
from safesphere.incidents import deliveries as incident_deliveries
from safesphere.tracking.models import EmergencyContact
from tests.conftest import BACKEND
from tests.factories import Factory

CONTACT = {"name": "Mum", "relation": "mother", "phone": "+34 611 111 111", "email": "mum@example.com"}


def _raw_contacts(db: Database) -> list[tuple[str | None, str | None]]:
    with db.read_session() as session:
        rows = session.execute(sa.text("SELECT phone, email FROM emergency_contacts ORDER BY id"))
        return [(row[0], row[1]) for row in rows]


def test_the_database_holds_no_plaintext_and_the_api_and_deliveries_read_plaintext(
    client: TestClient, factory: Factory, db: Database
) -> None:
    tourist = factory.tourist()
    assert client.post("/me/contacts", json=CONTACT, headers=tourist.headers).status_code == 201

    raw = _raw_contacts(db)
    assert len(raw) == 1
    for stored, plain in zip(raw[0], (CONTACT["phone"], CONTACT["email"]), strict=True):
        assert stored is not None and stored.startswith(PREFIX)
        assert plain not in stored and "611" not in stored and "mum" not in stored
    if BACKEND == "sqlite":  # the files on disk too (database and write-ahead log), not only what SQL returns
        database_file = Path(str(sa.make_url(db.settings.resolved_database_url).database))
        files = [database_file, database_file.with_name(database_file.name + "-wal")]
        assert all(b"mum@example.com" not in path.read_bytes() for path in files if path.exists())

    listed = client.get("/me/contacts", headers=tourist.headers).json()
    assert [(c["phone"], c["email"]) for c in listed] == [(CONTACT["phone"], CONTACT["email"])]
    with db.read_session() as session:  # what the delivery sources address (tests/notify sends them for real)
        people = incident_deliveries.people(session=session, user_id=tourist.user.id)
    assert [(r.phone, r.email) for r in people.recipients("emergency_contacts")] == [
        (CONTACT["phone"], CONTACT["email"])
    ]


def test_the_generated_key_is_0600_and_a_configured_key_is_used_instead(tmp_path: Path) -> None:
    generated = FieldCipher.from_settings(Settings(data_dir=tmp_path))
    key_file = tmp_path / KEY_FILE_NAME
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    again = FieldCipher.from_settings(Settings(data_dir=tmp_path))
    assert again.decrypt(generated.encrypt("+34 600")) == "+34 600"

    key = Fernet.generate_key().decode()
    configured = FieldCipher.from_settings(Settings(data_dir=tmp_path / "other", field_encryption_key=key))
    assert not (tmp_path / "other" / KEY_FILE_NAME).exists()
    assert FieldCipher(key).decrypt(configured.encrypt("a@b.c")) == "a@b.c"
    with pytest.raises(ValueError, match="Fernet key"):
        FieldCipher("not-a-key")


@pytest.mark.sqlite_only
def test_the_migration_encrypts_contacts_stored_in_plaintext_before_it(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, jwt_secret="x" * 40)
    migrate.upgrade(settings, "0025")
    engine = sa.create_engine(settings.resolved_database_url)
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO users (email, password_hash, role, is_active, created_at, updated_at) "
            "VALUES ('t@example.com', 'x', 'tourist', 1, '2026-01-01', '2026-01-01')"
        )
        connection.exec_driver_sql(
            "INSERT INTO emergency_contacts (user_id, name, phone, email, created_at) "
            "VALUES (1, 'Mum', '+34 611 111 111', NULL, '2026-01-01')"
        )

    migrate.upgrade(settings)

    with engine.connect() as connection:
        phone, email = connection.exec_driver_sql("SELECT phone, email FROM emergency_contacts").one()
    assert phone.startswith(PREFIX) and "611" not in phone and email is None
    assert FieldCipher.from_settings(settings).decrypt(phone) == "+34 611 111 111"
    migrate.downgrade(settings, "0025")
    with engine.connect() as connection:
        assert (
            connection.exec_driver_sql("SELECT phone FROM emergency_contacts").scalar() == "+34 611 111 111"
        )
    engine.dispose()


@pytest.mark.sqlite_only
def test_a_backup_carries_the_generated_key_so_the_restored_copy_reads_the_contacts(
    client: TestClient, factory: Factory, db: Database, settings: Settings, tmp_path: Path
) -> None:
    tourist = factory.tourist()
    assert client.post("/me/contacts", json=CONTACT, headers=tourist.headers).status_code == 201
    target = tmp_path / "backup"

    back_up(settings=settings, target=target)

    assert stat.S_IMODE((target / KEY_FILE_NAME).stat().st_mode) == 0o600
    restored = Database(Settings(data_dir=target, jwt_secret="another-secret-for-the-restored-copy-0123"))
    try:
        with restored.read_session() as session:
            contacts = session.scalars(sa.select(EmergencyContact)).all()
        assert [(c.phone, c.email) for c in contacts] == [(CONTACT["phone"], CONTACT["email"])]
    finally:
        restored.dispose()
