"""Who may call a route, declared in its signature.

Every route takes exactly one of these dependencies: ``Public``, ``AnyUser``, ``TouristUser``,
``TouristToken``, ``AuthorityUser``, ``AdminUser``, ``EngineKeyAuth``, ``EngineOrAuthority`` or
``MetricsReader``. Each carries an ``access_rule`` attribute, so a test walks the route table and checks
every rule. ``TouristToken`` (rule "tourist", the location fix) checks the token alone; its route confirms
the account in its own transaction (``auth.service.confirm_account``).

Missing or invalid credentials give 401 ``{"detail": "Not authenticated"}``; valid credentials of
the wrong kind or role give 403.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

import anyio.to_thread
from fastapi import Depends, Request
from fastapi.security import (
    APIKeyHeader,
    HTTPAuthorizationCredentials,
    HTTPBasic,
    HTTPBasicCredentials,
    HTTPBearer,
)
from sqlalchemy.orm import Session

from safesphere.auth import service
from safesphere.auth.admission import VERIFIED_KEY_STATE, VERIFIED_TOKEN_STATE, KeyCache
from safesphere.auth.models import Role, User
from safesphere.auth.service import EngineKeyIdentity
from safesphere.core.db import Database
from safesphere.core.dependencies import ReadSession, SettingsDep, TokensDep
from safesphere.core.errors import Forbidden, NotAuthenticated
from safesphere.core.security import ENGINE_KEY_PREFIX, TokenClaims, hash_engine_key

_bearer = HTTPBearer(auto_error=False, description="A user's access token, or an engine key.")
_api_key = APIKeyHeader(name="X-API-Key", auto_error=False, description="An engine key.")
_basic = HTTPBasic(auto_error=False, description="An engine key as the password.")

BearerCredentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
ApiKeyCredentials = Annotated[str | None, Depends(_api_key)]
BasicCredentials = Annotated[HTTPBasicCredentials | None, Depends(_basic)]


@dataclass(frozen=True)
class EnginePrincipal:
    """An authenticated detection engine: its key, owner and fixed location, if any."""

    key_id: int
    name: str
    owner_id: int | None
    latitude: float | None
    longitude: float | None
    timezone: str | None = None


F = TypeVar("F", bound=Callable[..., Any])


def _rule(name: str) -> Callable[[F], F]:
    def mark(function: F) -> F:
        function.access_rule = name  # type: ignore[attr-defined]
        return function

    return mark


def _engine_key_from(
    bearer: HTTPAuthorizationCredentials | None, api_key: str | None, basic: HTTPBasicCredentials | None
) -> str | None:
    if api_key:
        return api_key
    if bearer is not None and bearer.credentials.startswith(ENGINE_KEY_PREFIX):
        return bearer.credentials
    if basic is not None and basic.password:
        return basic.password
    return None


def _release_connection(session: Session) -> None:
    """End the lookup's read transaction so its pooled connection goes back at once.

    Between this dependency and the route a request holds no worker thread; if it kept a connection
    meanwhile, newly arrived requests could take every thread and wait on the empty pool for
    connections that only those parked requests would free: the server stalled under load until the
    pool timeout. The loaded objects stay usable (``expire_on_commit=False``).
    """
    session.commit()


def _user_from(
    session: ReadSession, tokens: TokensDep, bearer: HTTPAuthorizationCredentials | None
) -> User | None:
    if bearer is None or bearer.credentials.startswith(ENGINE_KEY_PREFIX):
        return None
    claims = tokens.decode(bearer.credentials)
    if claims is None:
        raise NotAuthenticated()
    user = service.get_user(session=session, user_id=claims.user_id)
    _release_connection(session)
    if user is None or not service.token_still_valid(user, claims.issued_at):
        raise NotAuthenticated()
    return user


def _verified(request: Request, key_hash: str) -> tuple[bool, EngineKeyIdentity | None]:
    """Whether admission (``auth.admission``) already knows this key for this very request (looked up now
    or remembered), and what it found (a key record, or None for an unknown or revoked key)."""
    verified = getattr(request.state, VERIFIED_KEY_STATE, None)
    if verified is not None and verified[0] == key_hash:
        return True, verified[1]
    return False, None


def _engine_from(request: Request, session: ReadSession, key: str | None) -> EnginePrincipal | None:
    if key is None:
        return None
    key_hash = hash_engine_key(key)
    known, record = _verified(request, key_hash)
    if not known:
        record = service.authenticate_engine_key(session=session, key=key)
        _release_connection(session)
        keys: KeyCache | None = getattr(request.app.state, "engine_keys", None)
        if keys is not None:  # admission stops counting a revoked key as live
            keys.remember(key_hash, record)
    return _principal(record)


def _principal(record: EngineKeyIdentity | None) -> EnginePrincipal:
    if record is None:
        raise NotAuthenticated()
    return EnginePrincipal(
        record.id, record.name, record.owner_id, record.latitude, record.longitude, record.timezone
    )


def _engine_looked_up(request: Request, key: str) -> EnginePrincipal | None:
    database: Database = request.app.state.db
    with database.read_session() as session:
        return _engine_from(request, session, key)


@_rule("public")
async def public() -> None:
    """Anyone may call. ``async`` so it costs no route thread: ``/health`` answers while all are busy."""


@_rule("user")
def any_user(
    session: ReadSession, tokens: TokensDep, bearer: BearerCredentials, api_key: ApiKeyCredentials
) -> User:
    user = _user_from(session, tokens, bearer)
    if user is None:
        if api_key or bearer is not None:
            raise Forbidden("This endpoint needs a user account, not an engine key")
        raise NotAuthenticated()
    return user


def _role_rule(name: str, roles: frozenset[Role]) -> Callable[..., User]:
    @_rule(name)
    def dependency(user: Annotated[User, Depends(any_user)]) -> User:
        if user.role not in roles:
            raise Forbidden(f"This endpoint is for {' or '.join(sorted(roles))} accounts")
        return user

    dependency.__name__ = f"{name}_user"
    return dependency


tourist_user = _role_rule("tourist", frozenset({Role.tourist}))


@_rule("tourist")
async def tourist_token(
    request: Request, tokens: TokensDep, bearer: BearerCredentials, api_key: ApiKeyCredentials
) -> TokenClaims:
    """A tourist's token checked by its signature, expiry and role alone: ``async``, no query, no thread
    (on a device write admission has decoded it already). The account itself (deleted, deactivated, a
    password or role changed since the token) must be confirmed by the route's own transaction with
    ``auth.service.confirm_account``, as the location fix's unit of work does in the writer's."""
    if bearer is None or bearer.credentials.startswith(ENGINE_KEY_PREFIX):
        if api_key or bearer is not None:
            raise Forbidden("This endpoint needs a user account, not an engine key")
        raise NotAuthenticated()
    decoded = getattr(request.state, VERIFIED_TOKEN_STATE, None)
    if decoded is not None and decoded[0] == bearer.credentials:
        claims: TokenClaims | None = decoded[1]
    else:
        claims = tokens.decode(bearer.credentials)
    if claims is None:
        raise NotAuthenticated()
    if claims.role != Role.tourist.value:
        raise Forbidden("This endpoint is for tourist accounts")
    return claims


authority_user = _role_rule("authority", frozenset({Role.authority, Role.admin}))
admin_user = _role_rule("admin", frozenset({Role.admin}))


@_rule("admin_or_metrics_token")
def metrics_reader(
    session: ReadSession,
    tokens: TokensDep,
    settings: SettingsDep,
    bearer: BearerCredentials,
    api_key: ApiKeyCredentials,
) -> None:
    """An admin account, or a scraper sending ``SAFESPHERE_METRICS_TOKEN`` as its bearer token."""
    expected = settings.metrics_token
    if (
        bearer is not None
        and expected is not None
        and hmac.compare_digest(bearer.credentials.encode(), expected.get_secret_value().encode())
    ):
        return
    user = any_user(session, tokens, bearer, api_key)
    if user.role != Role.admin:
        raise Forbidden("Metrics are for admin accounts and the metrics token")


@_rule("engine")
async def engine_key(
    request: Request, bearer: BearerCredentials, api_key: ApiKeyCredentials, basic: BasicCredentials
) -> EnginePrincipal:
    """``async``: on a device write admission (``auth.admission``) knows the key already (looked up for
    this request, or remembered for up to a minute), so no thread hop and no session; otherwise the key is
    looked up in a route thread. A remembered key may have been revoked since: the threat report, the one
    device write for engines, re-reads its key in its own transaction (``incidents.service``)."""
    key = _engine_key_from(bearer, api_key, basic)
    engine: EnginePrincipal | None = None
    if key is not None:
        known, record = _verified(request, hash_engine_key(key))
        if known:
            engine = _principal(record)
        else:
            engine = await anyio.to_thread.run_sync(_engine_looked_up, request, key)
    if engine is None:
        if bearer is not None:
            raise Forbidden("This endpoint needs an engine key")
        raise NotAuthenticated()
    return engine


@_rule("engine_or_authority")
def engine_or_authority(
    request: Request,
    session: ReadSession,
    tokens: TokensDep,
    bearer: BearerCredentials,
    api_key: ApiKeyCredentials,
    basic: BasicCredentials,
) -> EnginePrincipal | User:
    engine = _engine_from(request, session, _engine_key_from(bearer, api_key, basic))
    if engine is not None:
        return engine
    user = _user_from(session, tokens, bearer)
    if user is None:
        raise NotAuthenticated()
    if user.role not in (Role.authority, Role.admin):
        raise Forbidden("This endpoint is for engines and authority accounts")
    return user


Public = Annotated[None, Depends(public)]
AnyUser = Annotated[User, Depends(any_user)]
TouristUser = Annotated[User, Depends(tourist_user)]
TouristToken = Annotated[TokenClaims, Depends(tourist_token)]
AuthorityUser = Annotated[User, Depends(authority_user)]
AdminUser = Annotated[User, Depends(admin_user)]
EngineKeyAuth = Annotated[EnginePrincipal, Depends(engine_key)]
MetricsReader = Annotated[None, Depends(metrics_reader)]
EngineOrAuthority = Annotated[EnginePrincipal | User, Depends(engine_or_authority)]
