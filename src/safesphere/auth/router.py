"""Accounts, login and engine keys over HTTP."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request, status

from safesphere.auth import service
from safesphere.auth.access import AdminUser, AnyUser, Public
from safesphere.auth.models import Role
from safesphere.auth.schemas import (
    EngineKeyCreatedOut,
    EngineKeyCreateIn,
    EngineKeyOut,
    LoginIn,
    PasswordChangeIn,
    RegisterIn,
    TokenOut,
    UserCreateIn,
    UserOut,
    UserUpdateIn,
)
from safesphere.auth.throttle import LoginThrottle
from safesphere.core.config import Settings
from safesphere.core.db import Database
from safesphere.core.dependencies import DatabaseDep, DbSession, ReadSession, SettingsDep, TokensDep
from safesphere.core.errors import responses
from safesphere.core.params import Offset, PathId
from safesphere.core.security import TokenService

MAX_USERNAME_LENGTH = 320
"""An e-mail address is at most 320 characters."""
MAX_PASSWORD_LENGTH = 256
"""As ``LoginIn.password``."""

router = APIRouter(tags=["auth"])
admin_router = APIRouter(prefix="/admin", tags=["admin"], responses=responses(401, 403))


@router.post(
    "/auth/register",
    response_model=UserOut,
    status_code=status.HTTP_201_CREATED,
    responses=responses(n409="Email already registered"),
)
def register(body: RegisterIn, session: DbSession, _: Public) -> UserOut:
    """Create a tourist account (self-service accounts are always tourists)."""
    user = service.create_user(
        session=session, email=body.email, password=body.password, role=Role.tourist, name=body.name
    )
    return UserOut.model_validate(user)


@router.post("/auth/login", response_model=TokenOut, responses=responses(401, 429))
def login(
    body: LoginIn,
    request: Request,
    database: DatabaseDep,
    tokens: TokensDep,
    settings: SettingsDep,
    _: Public,
) -> TokenOut:
    """Exchange email and password for a bearer token. Repeated failures are throttled (429 with
    ``Retry-After``): per account and client address, and per client address."""
    return _login(request, database, tokens, settings, email=body.email, password=body.password)


@router.post("/auth/token", response_model=TokenOut, responses=responses(401, 429))
def token(
    username: Annotated[str, Form(min_length=1, max_length=MAX_USERNAME_LENGTH)],
    password: Annotated[str, Form(min_length=1, max_length=MAX_PASSWORD_LENGTH)],
    request: Request,
    database: DatabaseDep,
    tokens: TokensDep,
    settings: SettingsDep,
    _: Public,
) -> TokenOut:
    """OAuth2 password flow (the form behind the docs' Authorize button); username is the email. Its
    other OAuth2 fields (``grant_type``, ``scope``, client credentials) are ignored."""
    return _login(request, database, tokens, settings, email=username, password=password)


def _login(
    request: Request,
    database: Database,
    tokens: TokenService,
    settings: Settings,
    *,
    email: str,
    password: str,
) -> TokenOut:
    issued = service.login(
        database=database,
        tokens=tokens,
        throttle=LoginThrottle.from_settings(settings),
        email=email,
        password=password,
        address=request.client.host if request.client else "unknown",
    )
    return TokenOut(access_token=issued.access_token, expires_in=issued.expires_in, role=issued.role)


@router.get("/auth/me", response_model=UserOut, responses=responses(401, 403))
def me(user: AnyUser) -> UserOut:
    """The account the token belongs to."""
    return UserOut.model_validate(user)


@router.post("/auth/password", response_model=TokenOut, responses=responses(401, 403))
def change_password(
    body: PasswordChangeIn, user: AnyUser, database: DatabaseDep, tokens: TokensDep
) -> TokenOut:
    """Change your password (the current one is checked). Every earlier token of the account stops
    working, on every device; the answer carries a fresh one."""
    issued = service.change_password(
        database=database,
        tokens=tokens,
        user=user,
        current_password=body.current_password,
        new_password=body.new_password,
    )
    return TokenOut(access_token=issued.access_token, expires_in=issued.expires_in, role=issued.role)


@admin_router.post(
    "/users",
    response_model=UserOut,
    status_code=status.HTTP_201_CREATED,
    responses=responses(n409="Email already registered"),
)
def create_user(body: UserCreateIn, session: DbSession, admin: AdminUser) -> UserOut:
    """Create an account of any role (authority and admin accounts are made only this way)."""
    user = service.create_user(
        session=session,
        email=body.email,
        password=body.password,
        role=body.role,
        name=body.name,
        actor_id=admin.id,
    )
    return UserOut.model_validate(user)


@admin_router.get("/users", response_model=list[UserOut])
def list_users(
    session: ReadSession,
    _: AdminUser,
    role: Role | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Offset = 0,
) -> list[UserOut]:
    """All accounts, optionally of one role."""
    users = service.list_users(session=session, role=role, limit=limit, offset=offset)
    return [UserOut.model_validate(u) for u in users]


@admin_router.patch(
    "/users/{user_id}",
    response_model=UserOut,
    responses=responses(n404="No such user", n409="An admin cannot deactivate or demote their own account"),
)
def update_user(user_id: PathId, body: UserUpdateIn, database: DatabaseDep, admin: AdminUser) -> UserOut:
    """Deactivate or reactivate an account, change its role or reset its password. A role or password
    change ends the account's sessions; a deactivated account is refused at once."""
    user = service.update_user(
        database=database,
        admin=admin,
        user_id=user_id,
        is_active=body.is_active,
        role=body.role,
        password=body.password,
    )
    return UserOut.model_validate(user)


@admin_router.post(
    "/keys",
    response_model=EngineKeyCreatedOut,
    status_code=status.HTTP_201_CREATED,
    responses=responses(n404="Owner not found", n409="Name taken"),
)
def create_key(body: EngineKeyCreateIn, session: DbSession, admin: AdminUser) -> EngineKeyCreatedOut:
    """Create an engine API key; the secret is in the response and never again."""
    created = service.create_engine_key(
        session=session,
        name=body.name,
        owner_email=body.owner_email,
        latitude=body.latitude,
        longitude=body.longitude,
        actor_id=admin.id,
        timezone=body.timezone,
    )
    return EngineKeyCreatedOut(**EngineKeyOut.model_validate(created.record).model_dump(), key=created.key)


@admin_router.get("/keys", response_model=list[EngineKeyOut])
def list_keys(session: ReadSession, _: AdminUser) -> list[EngineKeyOut]:
    """Every engine key, without secrets."""
    return [EngineKeyOut.model_validate(k) for k in service.list_engine_keys(session=session)]


@admin_router.delete("/keys/{name}", response_model=EngineKeyOut, responses=responses(n404="No such key"))
def revoke_key(name: str, session: DbSession, admin: AdminUser) -> EngineKeyOut:
    """Revoke an engine key; it stops authenticating at once."""
    return EngineKeyOut.model_validate(
        service.revoke_engine_key(session=session, name=name, actor_id=admin.id)
    )
