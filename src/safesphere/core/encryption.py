"""Personal fields encrypted at rest: emergency contacts' phone and e-mail (``EncryptedText`` columns).

Fernet (AES-128-CBC with HMAC-SHA256, from ``cryptography``), with the key from
``SAFESPHERE_FIELD_ENCRYPTION_KEY`` or generated once into ``<data_dir>/field_key`` (0600), as the JWT
secret is. Each engine of a ``Database`` carries the cipher (``attach``), so every read through SQLAlchemy
(the API, the delivery sources, monitoring) gets plaintext and every write stores ciphertext; the
database, its backups' database file and anyone reading it raw see only ``fernet:...``. An engine without
a cipher refuses to write such a column rather than store plaintext.
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import Text, TypeDecorator
from sqlalchemy.engine import Dialect, Engine

from safesphere.core.config import Settings
from safesphere.core.security import load_or_create_secret

PREFIX = "fernet:"
"""Marks a stored value as ciphertext (the migration encrypts only values without it)."""
KEY_FILE_NAME = "field_key"
_ATTRIBUTE = "safesphere_field_cipher"


class FieldKeyError(RuntimeError):
    """A stored value cannot be decrypted with the configured key: the operator's configuration is wrong."""


class FieldCipher:
    """Encrypts and decrypts one text field with the installation's key."""

    def __init__(self, key: bytes | str) -> None:
        try:
            self._fernet = Fernet(key)
        except ValueError as exc:
            raise ValueError(
                "SAFESPHERE_FIELD_ENCRYPTION_KEY must be a Fernet key (32 url-safe base64 bytes)"
            ) from exc

    @classmethod
    def from_settings(cls, settings: Settings) -> FieldCipher:
        if settings.field_encryption_key is not None:
            return cls(settings.field_encryption_key.get_secret_value())
        make = lambda: Fernet.generate_key().decode("ascii")  # noqa: E731
        return cls(load_or_create_secret(settings.data_dir, file_name=KEY_FILE_NAME, make=make))

    def encrypt(self, value: str) -> str:
        return PREFIX + self._fernet.encrypt(value.encode("utf-8")).decode("ascii")

    def decrypt(self, stored: str) -> str:
        """The plaintext of a stored value (a value without the prefix predates encryption: as stored)."""
        if not stored.startswith(PREFIX):
            return stored
        try:
            return self._fernet.decrypt(stored[len(PREFIX) :].encode("ascii")).decode("utf-8")
        except InvalidToken as exc:
            raise FieldKeyError(
                "An encrypted field does not match the field key: restore the installation's "
                "SAFESPHERE_FIELD_ENCRYPTION_KEY or <data_dir>/field_key"
            ) from exc


def attach(engine: Engine, cipher: FieldCipher) -> None:
    """Give the engine's ``EncryptedText`` columns their cipher."""
    setattr(engine.dialect, _ATTRIBUTE, cipher)


def _cipher(dialect: Dialect) -> FieldCipher:
    cipher = getattr(dialect, _ATTRIBUTE, None)
    if cipher is None:
        raise FieldKeyError("This engine has no field cipher (core.encryption.attach); refusing plaintext")
    return cipher  # type: ignore[no-any-return]


class EncryptedText(TypeDecorator[str]):
    """Text stored encrypted; the engine's cipher encrypts on write and decrypts on read."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else _cipher(dialect).encrypt(value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else _cipher(dialect).decrypt(value)
