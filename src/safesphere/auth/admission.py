"""Fair admission of device writes: who is asking is known from the headers before a device write takes
a slot or its body is read, and each engine key and tourist gets its own share of the process.

Before, one in-flight counter for the whole process was taken before authentication and bodies had no
read timeout: 64 sockets without credentials announcing a body they never sent silenced every engine
(issue 16). Now, for ``POST /threats/report`` and ``POST /location/update``:

1. No credentials, a malformed or expired token: 401 from the headers alone, after a short delay
   (``REFUSAL_DELAY_S``) that holds a flood on a fixed set of connections to a trickle.
2. An engine key is checked against the database once and remembered (``KeyCache``); a key not known
   yet is checked in a small pool of its own (``unverified_key_checks`` keys at a time, beyond that 503),
   so a flood of bogus keys costs a bounded trickle of indexed lookups and nothing else. Requests with a
   key already being checked wait for that one check: a camera's burst after a restart (a cold cache)
   costs one lookup and is not refused. A user token is verified by its signature (no database).
3. Its client (the key or the user) spends a token of its rate bucket and takes one of its in-flight
   slots (``core.limits``): over either, 429 with Retry-After, for that client only.
4. The body is read (within ``request_body_timeout_s``) before the write queues for the device-write
   lane: ``writer_max_batch`` at once. Both device writes are ``async`` routes (their work runs in the
   process's writer, not in route threads), so the lane bounds how many wait for the writer: one batch's
   worth, so a write of another kind queued behind them waits for at most one batch. It used to be
   sized from the route threads (6 by default), which capped the writer's batches at 6: past that rate a
   backlog could not be absorbed by larger batches (each report kept paying a lock hand-over and a
   commit of its own) and stayed, with 503s (issue 17).

The route's own access dependency still decides (a deactivated tourist, the wrong role). For an engine key
it takes what admission knows (looked up for this request, or remembered for up to ``KeyCache.ttl_s``) with
no query of its own: a threat report's unit of work re-reads its key's row inside the writer's transaction
(``incidents.service.record_report``), so a key revoked meanwhile is refused there, by any process.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import time
from collections import OrderedDict
from collections.abc import Hashable

import anyio
import anyio.to_thread
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from safesphere.auth import service
from safesphere.core.config import Settings
from safesphere.core.db import Database
from safesphere.core.limits import (
    CLOSE,
    DEVICE_WRITES,
    RETRY_AFTER_S,
    FairShares,
    InFlight,
    RateLimits,
    Refusal,
    answer,
    refuse,
)
from safesphere.core.security import ENGINE_KEY_PREFIX, TokenService, hash_engine_key

LOOKUP_THREADS = 2
"""Threads checking keys not known yet against the database."""
REFUSAL_DELAY_S = 0.5
"""A device write without valid credentials waits this long for its 401: a flood on a fixed number of
connections is held to two requests per connection per second (a sleeping task costs no CPU), where an
immediate answer let 256 connections cost the event loop ~1000 refusals a second."""
VERIFIED_KEY_STATE = "verified_engine_key"
"""Where in the request's state the key looked up here is handed to the route's access dependency."""
VERIFIED_TOKEN_STATE = "verified_user_token"  # noqa: S105 (a state key, not a secret)
"""Where in the request's state a user token decoded here (and its claims) is handed to the route's."""


class KeyCache:
    """Engine keys recently found live (with their identity) or unknown, by hash, each for ``ttl_s``; at
    most ``size`` of each."""

    def __init__(self, *, ttl_s: float = 60.0, size: int = 4096) -> None:
        self.ttl_s = ttl_s
        self.size = size
        self._known: dict[bool, OrderedDict[str, tuple[service.EngineKeyIdentity | None, float]]] = {
            True: OrderedDict(),
            False: OrderedDict(),
        }

    def get(self, key_hash: str) -> tuple[bool, service.EngineKeyIdentity | None] | None:
        """``(True, identity)`` for a key seen live, ``(False, None)`` for one seen unknown, else None."""
        now = time.monotonic()
        for live, entries in self._known.items():
            entry = entries.get(key_hash)
            if entry is not None and entry[1] > now:
                return live, entry[0]
        return None

    def remember(self, key_hash: str, identity: service.EngineKeyIdentity | None) -> None:
        """Note the outcome of a lookup: the live key's identity, or None for an unknown or revoked key."""
        live = identity is not None
        self._known[not live].pop(key_hash, None)
        entries = self._known[live]
        entries[key_hash] = (identity, time.monotonic() + self.ttl_s)
        entries.move_to_end(key_hash)
        while len(entries) > self.size:
            entries.popitem(last=False)


class DeviceAdmission:
    """The middleware described in the module docstring; ``database`` and ``tokens`` are read from the
    app's state at the first request (the lifespan makes them)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        settings: Settings,
        in_flight: InFlight,
        keys: KeyCache,
        paths: frozenset[str] = DEVICE_WRITES,
    ) -> None:
        self.app = app
        self.paths = paths
        self.keys = keys
        self.unverified_checks = settings.unverified_key_checks
        self.shares = FairShares(
            per_client=settings.device_writes_in_flight_per_client,
            total=settings.max_in_flight_device_writes,
            in_flight=in_flight,
        )
        self.rates = RateLimits(rate_per_s=settings.device_writes_per_s, burst=settings.device_write_burst)
        self.lane_size = settings.writer_max_batch
        self._lane: asyncio.Semaphore | None = None
        self._lookups: anyio.CapacityLimiter | None = None
        self._checks: dict[str, asyncio.Future[service.EngineKeyIdentity | None]] = {}
        """The lookups under way, by key hash: later requests with the same key wait for them."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] not in self.paths:
            await self.app(scope, receive, send)
            return
        client = await self._client(scope, send)
        if client is None:
            return
        refusal = self.rates.take(client) or self.shares.admit(client)
        if refusal is not None:
            await refuse(send, refusal)
            return
        try:
            body = await _read_body(receive)
            if self._lane is None:
                self._lane = asyncio.Semaphore(self.lane_size)
            verified = scope.get("state", {}).get(VERIFIED_KEY_STATE)
            if verified is not None:
                send = self._noting_refusal(send, verified[0])
            async with self._lane:
                await self.app(scope, _replay(body, receive), send)
        finally:
            self.shares.release(client)

    def _noting_refusal(self, send: Send, key_hash: str) -> Send:
        """``send``, remembering the key as not live when the route refuses it (401): revoked since it was
        remembered, so its next requests are refused here, before they spend its rate or a slot."""

        async def noting(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 401:
                self.keys.remember(key_hash, None)
            await send(message)

        return noting

    async def _client(self, scope: Scope, send: Send) -> Hashable | None:
        """Who is asking, or None once refused (401, or 503 when the unverified pool is full)."""
        kind, credential = _credential(scope)
        if kind == "engine":
            return await self._engine(scope, send, credential)
        if kind == "user":
            tokens: TokenService = scope["app"].state.tokens
            claims = tokens.decode(credential)
            if claims is not None:
                scope.setdefault("state", {})[VERIFIED_TOKEN_STATE] = (credential, claims)
                return ("user", claims.user_id)
        await _unauthenticated(send)
        return None

    async def _engine(self, scope: Scope, send: Send, key: str) -> Hashable | None:
        key_hash = hash_engine_key(key)
        known = self.keys.get(key_hash)
        if known is None:
            checking = self._checks.get(key_hash)
            if checking is None:
                if len(self._checks) >= self.unverified_checks:
                    await refuse(send, Refusal(503, "Busy checking unknown keys; retry", RETRY_AFTER_S))
                    return None
                checking = self._checks[key_hash] = asyncio.ensure_future(
                    self._look_up(scope["app"].state.db, key, key_hash)
                )
            # Shielded: a client that goes away does not cancel the check the others wait for.
            identity = await asyncio.shield(checking)
            known = (identity is not None, identity)
        live, identity = known
        if not live or identity is None:
            await _unauthenticated(send)
            return None
        scope.setdefault("state", {})[VERIFIED_KEY_STATE] = (key_hash, identity)
        return ("engine", identity.id)

    async def _look_up(self, database: Database, key: str, key_hash: str) -> service.EngineKeyIdentity | None:
        """The key's identity (None: unknown or revoked), remembered; its entry in ``_checks`` removed."""
        if self._lookups is None:
            self._lookups = anyio.CapacityLimiter(LOOKUP_THREADS)

        def look_up() -> service.EngineKeyIdentity | None:
            with database.read_session() as session:  # connection taken and given back in this thread
                return service.authenticate_engine_key(session=session, key=key)

        try:
            identity = await anyio.to_thread.run_sync(look_up, limiter=self._lookups)
            self.keys.remember(key_hash, identity)
            return identity
        finally:
            del self._checks[key_hash]


async def _unauthenticated(send: Send) -> None:
    await asyncio.sleep(REFUSAL_DELAY_S)
    await answer(send, 401, "Not authenticated", [(b"www-authenticate", b"Bearer"), CLOSE])


def _credential(scope: Scope) -> tuple[str, str]:
    """``("engine", key)``, ``("user", token)`` or ``("", "")``, read like ``auth.access`` reads them."""
    authorization = ""
    for name, value in scope["headers"]:
        if name == b"x-api-key" and value:
            return "engine", value.decode("latin-1")
        if name == b"authorization":
            authorization = value.decode("latin-1")
    scheme, _, credentials = authorization.partition(" ")
    credentials = credentials.strip()
    if scheme.lower() == "bearer" and credentials:
        return ("engine" if credentials.startswith(ENGINE_KEY_PREFIX) else "user"), credentials
    if scheme.lower() == "basic":
        try:
            _, _, password = base64.b64decode(credentials, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return "", ""
        if password:
            return "engine", password
    return "", ""


async def _read_body(receive: Receive) -> bytes:
    """The whole body (``BodyLimits`` outside bounds its size and time)."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks)
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay
