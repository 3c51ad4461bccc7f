"""A local Web Push service for delivery tests: it checks each request's VAPID token (RFC 8292: ES256
over the request's origin, signed by the key in ``k``) and decrypts the aes128gcm payload (RFC 8291) with
the subscription's private key, implemented here from the RFCs with ``cryptography`` only, so the sender's
library is checked rather than trusted."""

from __future__ import annotations

import base64
import json
import os
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _hkdf(salt: bytes, ikm: bytes, info: bytes, length: int) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=salt, info=info).derive(ikm)


def _point(key: ec.EllipticCurvePublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)


@dataclass
class Device:
    """A browser's side of a subscription: its key pair and auth secret."""

    endpoint: str
    private_key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    auth_secret: bytes = field(default_factory=lambda: os.urandom(16))

    def subscription(self) -> dict[str, Any]:
        """What ``PushSubscription.toJSON()`` gives the page."""
        p256dh = b64url(_point(self.private_key.public_key()))
        return {"endpoint": self.endpoint, "keys": {"p256dh": p256dh, "auth": b64url(self.auth_secret)}}

    def decrypt(self, body: bytes) -> bytes:
        """RFC 8291 section 3 + RFC 8188: header (salt, rs, keyid = sender's public key), one record."""
        salt, rs, id_length = body[:16], int.from_bytes(body[16:20], "big"), body[20]
        sender_point = body[21 : 21 + id_length]
        ciphertext = body[21 + id_length :]
        assert len(ciphertext) <= rs, "more than one record"
        sender = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), sender_point)
        shared = self.private_key.exchange(ec.ECDH(), sender)
        ua_point = _point(self.private_key.public_key())
        ikm = _hkdf(self.auth_secret, shared, b"WebPush: info\x00" + ua_point + sender_point, 32)
        cek = _hkdf(salt, ikm, b"Content-Encoding: aes128gcm\x00", 16)
        nonce = _hkdf(salt, ikm, b"Content-Encoding: nonce\x00", 12)
        padded = AESGCM(cek).decrypt(nonce, ciphertext, None)
        plaintext = padded.rstrip(b"\x00")
        assert plaintext.endswith(b"\x02"), "not the last record's delimiter"
        return plaintext[:-1]


@dataclass(frozen=True)
class Push:
    path: str
    urgency: str | None
    ttl: str | None
    payload: dict[str, Any]


class PushRefused(Exception):
    pass


def verify_vapid(authorization: str, origin: str) -> dict[str, Any]:
    """The token's claims once its signature, audience, expiry and subject hold (else ``PushRefused``)."""
    if not authorization.startswith("vapid "):
        raise PushRefused("no vapid authorization")
    parts = dict(part.strip().split("=", 1) for part in authorization.removeprefix("vapid ").split(","))
    public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b64url_decode(parts["k"]))
    try:
        claims: dict[str, Any] = jwt.decode(parts["t"], public, algorithms=["ES256"], audience=origin)
    except jwt.PyJWTError as exc:
        raise PushRefused(f"bad token: {exc}") from exc
    if not (
        claims["exp"] <= time.time() + 24 * 3600
        and str(claims.get("sub", "")).startswith(("mailto:", "https:"))
    ):
        raise PushRefused("expiry over 24 h or no contact")
    return claims


@dataclass
class PushService:
    """Accepts pushes for its devices (``device(name)``); a device ``gone(name)`` answers 410; ``fail_next``
    answers 503 that many times first. Every accepted push is kept decrypted in ``pushes``."""

    port: int = 0
    devices: dict[str, Device] = field(default_factory=dict)
    pushes: list[Push] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    vapid_keys: set[str] = field(default_factory=set)
    _gone: set[str] = field(default_factory=set)
    _failures_left: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def device(self, name: str) -> Device:
        self.devices[name] = Device(f"{self.origin}/push/{name}")
        return self.devices[name]

    def gone(self, name: str) -> None:
        with self._lock:
            self._gone.add(name)

    def fail_next(self, count: int) -> None:
        with self._lock:
            self._failures_left = count

    def _answer(self, path: str, headers: dict[str, str], body: bytes) -> int:
        name = path.removeprefix("/push/")
        with self._lock:
            if name in self._gone:
                return 410
            if name not in self.devices:
                return 404
            if self._failures_left > 0:
                self._failures_left -= 1
                return 503
        try:
            if headers.get("content-encoding") != "aes128gcm":
                raise PushRefused("not aes128gcm")
            verify_vapid(headers.get("authorization", ""), self.origin)
            payload = json.loads(self.devices[name].decrypt(body))
        except (PushRefused, ValueError, KeyError, AssertionError) as exc:
            self.refused.append(f"{type(exc).__name__}: {exc}")
            return 400
        with self._lock:
            self.vapid_keys.add(headers["authorization"].rsplit("k=", 1)[1])
            self.pushes.append(Push(path, headers.get("urgency"), headers.get("ttl"), payload))
        return 201

    def start(self) -> PushService:
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status = service._answer(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
