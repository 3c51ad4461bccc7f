"""Password hashing, access tokens, engine-key secrets and the server's own signing secret."""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from safesphere.core import clock
from safesphere.core.config import Settings
from safesphere.core.files import make_private_dir

JWT_ALGORITHM = "HS256"
ENGINE_KEY_PREFIX = "ssk_"
"""Engine keys start with this so a leaked one is recognisable in logs and secret scanners."""
SECRET_FILE_NAME = "jwt_secret"  # noqa: S105 - a file name, not a secret

_hasher = PasswordHasher()
# A real hash of a throwaway password, verified against when a login names an unknown user, so
# that a response's timing does not reveal which e-mail addresses have accounts.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def load_or_create_secret(
    data_dir: Path, *, file_name: str = SECRET_FILE_NAME, make: Callable[[], str] | None = None
) -> str:
    """A secret kept in the data directory (0600), created on first use: by default the JWT secret."""
    path = data_dir / file_name
    if path.exists():
        return path.read_text().strip()
    make_private_dir(data_dir)
    secret = make() if make is not None else secrets.token_urlsafe(48)
    # O_EXCL: when two workers start at once, one creates the file and the other reads it.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(secret)
    return secret


@dataclass(frozen=True)
class TokenClaims:
    user_id: int
    role: str
    issued_at: datetime
    expires_at: datetime


class TokenService:
    """Issues and checks the bearer tokens of user accounts."""

    def __init__(self, settings: Settings) -> None:
        self._secret = settings.jwt_secret or load_or_create_secret(settings.data_dir)
        self._issuer = settings.jwt_issuer
        self.ttl = timedelta(seconds=settings.access_token_ttl_s)

    def issue(self, *, user_id: int, role: str) -> str:
        issued = clock.now()
        claims = {
            "sub": str(user_id),
            "role": role,
            "iat": int(issued.timestamp()),
            "exp": int((issued + self.ttl).timestamp()),
            "iss": self._issuer,
        }
        return jwt.encode(claims, self._secret, algorithm=JWT_ALGORITHM)

    def decode(self, token: str) -> TokenClaims | None:
        """The claims of a valid token, or None for anything forged, expired or malformed."""
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[JWT_ALGORITHM],
                issuer=self._issuer,
                # Times are checked against our clock below, so tests can move time either way.
                options={
                    "require": ["sub", "role", "exp", "iat", "iss"],
                    "verify_exp": False,
                    "verify_iat": False,
                },
            )
            user_id = int(claims["sub"])
        except (jwt.PyJWTError, ValueError, TypeError):
            return None
        expires = datetime.fromtimestamp(int(claims["exp"]), tz=clock.now().tzinfo)
        if expires <= clock.now():  # checked against our clock, so tests can move time
            return None
        return TokenClaims(
            user_id=user_id,
            role=str(claims["role"]),
            issued_at=datetime.fromtimestamp(int(claims["iat"]), tz=expires.tzinfo),
            expires_at=expires,
        )


def new_engine_key() -> str:
    """A fresh engine API key: prefix plus 256 random bits."""
    return ENGINE_KEY_PREFIX + secrets.token_urlsafe(32)


def hash_engine_key(key: str) -> str:
    """SHA-256 of a key. Keys carry 256 random bits, so a fast hash is enough and allows lookup."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()
