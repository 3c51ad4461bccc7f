"""Web Push (RFC 8030) to a tourist's device: VAPID identification (RFC 8292) and aes128gcm payload
encryption (RFC 8291, through ``http_ece``), sent with httpx like every other channel.

The VAPID key pair is one per installation: kept in the database (encrypted with the field key, see
``push.share_server_key``) and copied at start into the data directory (0600), where it is read; browsers
subscribe with its public half (``GET /push/key``), and push services check every request's token against
it, so every instance must sign with the same key.
"""

from __future__ import annotations

import base64
import json
import os
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import http_ece
import httpx
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

VAPID_KEY_FILE_NAME = "vapid_private_key.pem"
TOKEN_LIFETIME_S = 12 * 3600
"""RFC 8292 allows at most 24 h; half leaves room for clock skew at the push service."""
TIME_TO_LIVE_S = 3600
"""A push service keeps an undelivered message this long: a warning older than an hour misleads."""
GONE_STATUSES = frozenset({404, 410})
"""The push service says the subscription no longer exists: it is removed, not retried."""


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class PushTarget:
    """A subscribed device: its push service URL and the keys its payloads are encrypted for."""

    subscription_id: int
    endpoint: str
    p256dh: str
    auth: str


@dataclass(frozen=True)
class VapidKey:
    private_key: ec.EllipticCurvePrivateKey

    @property
    def public_key(self) -> str:
        """The application server key browsers subscribe with (uncompressed P-256 point, base64url)."""
        point = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return b64url(point)

    def authorization(self, endpoint: str, subject: str) -> str:
        """``vapid t=<ES256 JWT for the endpoint's origin>, k=<public key>`` (RFC 8292)."""
        parts = urlsplit(endpoint)
        claims = {"aud": f"{parts.scheme}://{parts.netloc}", "exp": int(time.time()) + TOKEN_LIFETIME_S,
                  "sub": subject}  # fmt: skip
        token = jwt.encode(claims, self.private_key, algorithm="ES256")
        return f"vapid t={token}, k={self.public_key}"


def new_private_key_pem() -> bytes:
    """A new P-256 private key, PEM (PKCS#8)."""
    return ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _loaded(pem: bytes, origin: str) -> VapidKey:
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ValueError(f"{origin} does not hold an EC private key")
    return VapidKey(key)


@cache
def vapid_key(data_dir: Path) -> VapidKey:
    """The server's VAPID key from ``<data_dir>/vapid_private_key.pem``, generated (0600) on first use."""
    path = data_dir / VAPID_KEY_FILE_NAME
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        pem = new_private_key_pem()
        try:  # O_EXCL: of two processes starting at once, one writes and both read the same key
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(pem)
        except FileExistsError:
            pass
    return _loaded(path.read_bytes(), str(path))


def install_key(data_dir: Path, pem: bytes) -> None:
    """Make ``pem`` this data directory's VAPID key (written 0600 and swapped in atomically, so another
    process never reads half a file); the key read before, if any, is forgotten."""
    _loaded(pem, "the installation's Web Push key")
    path = data_dir / VAPID_KEY_FILE_NAME
    if path.exists() and path.read_bytes() == pem:
        return
    data_dir.mkdir(parents=True, exist_ok=True)
    staged = path.with_name(f".{VAPID_KEY_FILE_NAME}.{os.getpid()}")
    fd = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    os.replace(staged, path)
    vapid_key.cache_clear()


def encrypt(payload: dict[str, Any], target: PushTarget) -> bytes:
    """The payload as one aes128gcm record for the device's keys, with a fresh sender key and salt."""
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    encrypted: bytes = http_ece.encrypt(
        body,
        salt=os.urandom(16),
        private_key=ec.generate_private_key(ec.SECP256R1()),
        dh=b64url_decode(target.p256dh),
        auth_secret=b64url_decode(target.auth),
        version="aes128gcm",
    )
    return encrypted


async def push(
    client: httpx.AsyncClient,
    target: PushTarget,
    payload: dict[str, Any],
    *,
    key: VapidKey,
    subject: str,
    urgency: str,
    timeout: float,
) -> httpx.Response:
    """One POST to the device's push service."""
    headers = {
        "Authorization": key.authorization(target.endpoint, subject),
        "Content-Encoding": "aes128gcm",
        "Content-Type": "application/octet-stream",
        "TTL": str(TIME_TO_LIVE_S),
        "Urgency": urgency,
    }
    return await client.post(
        target.endpoint, content=encrypt(payload, target), headers=headers, timeout=timeout
    )
