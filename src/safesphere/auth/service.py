"""Use cases of accounts and engine keys."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from safesphere.audit import service as audit
from safesphere.audit.models import AuditAction
from safesphere.auth.models import EngineKey, Role, User
from safesphere.auth.throttle import LoginThrottle, forget, record_failure
from safesphere.auth.throttle import state as throttle_state
from safesphere.core import clock
from safesphere.core.db import Database, table
from safesphere.core.errors import Conflict, InvalidInput, NotAuthenticated, NotFound, TooManyRequests
from safesphere.core.security import (
    TokenClaims,
    TokenService,
    hash_engine_key,
    hash_password,
    new_engine_key,
    verify_password,
)


def normalize_email(email: str) -> str:
    return email.strip().lower()


def create_user(
    *,
    session: Session,
    email: str,
    password: str,
    role: Role,
    name: str | None = None,
    actor_id: int | None = None,
) -> User:
    """A new account (audited: by ``actor_id``, or self-registered when None); 409 when the e-mail
    address is taken."""
    user = User(
        email=normalize_email(email), password_hash=hash_password(password), role=role.value, name=name
    )
    session.add(user)
    try:
        session.flush()
    except IntegrityError as exc:
        session.rollback()
        raise Conflict("A user with this email already exists") from exc
    audit.record(
        session, AuditAction.user_created, actor_id=actor_id, target=("user", user.id), role=role.value
    )
    session.commit()
    return user


def get_user(*, session: Session, user_id: int) -> User | None:
    return session.get(User, user_id)


def emails_by_id(*, session: Session, user_ids: set[int]) -> dict[int, str]:
    """The email of each of these users (one query), for naming who did what."""
    if not user_ids:
        return {}
    return {
        row.id: row.email
        for row in session.execute(sa.select(User.id, User.email).where(User.id.in_(user_ids)))
    }


def get_user_by_email(*, session: Session, email: str) -> User | None:
    return session.scalar(sa.select(User).where(User.email == normalize_email(email)))


def list_users(
    *, session: Session, role: Role | None = None, limit: int = 100, offset: int = 0
) -> list[User]:
    query = sa.select(User).order_by(User.id).limit(limit).offset(offset)
    if role is not None:
        query = query.where(User.role == role.value)
    return list(session.scalars(query))


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    expires_in: int
    role: Role


def login(
    *,
    database: Database,
    tokens: TokenService,
    throttle: LoginThrottle,
    email: str,
    password: str,
    address: str,
) -> IssuedToken:
    """A bearer token for valid credentials; 401 with one message for any failure, counted by the
    throttle; 429 with the wait while this account-and-address or this address is throttled.

    The password is checked in a read session; the write transaction that follows counts a failure (or
    clears the counter of a pair that had failed) and records the attempt in the audit log, so hashing
    never holds SQLite's write lock."""
    email = normalize_email(email)
    keys = throttle.keys(email=email, address=address)
    with database.read_session() as session:
        throttled = throttle_state(session, keys, now=clock.now())
        if throttled.retry_after_s is not None:
            wait_s = throttled.retry_after_s
            raise TooManyRequests(
                f"Too many failed logins; try again in {wait_s} seconds", retry_after_s=wait_s
            )
        user = get_user_by_email(session=session, email=email)
        valid = verify_password(user.password_hash if user else None, password)
    if user is None or not valid or not user.is_active:
        with database.session() as session:
            record_failure(session, throttle, keys, now=clock.now())
            target = ("user", user.id) if user is not None else None
            audit.record(session, AuditAction.login_failed, target=target, address=address)
            session.commit()
        raise NotAuthenticated("Incorrect email or password")
    with database.session() as session:
        if keys[0].key_hash in throttled.counted:
            forget(session, keys[0])
        audit.record(session, AuditAction.login, actor_id=user.id, target=("user", user.id), address=address)
        session.commit()
    return _issued(tokens, user)


def _issued(tokens: TokenService, user: User) -> IssuedToken:
    token = tokens.issue(user_id=user.id, role=user.role)
    return IssuedToken(token, int(tokens.ttl.total_seconds()), Role(user.role))


@dataclass(frozen=True, slots=True)
class ConfirmedAccount:
    """What a unit of work needs of the account it confirmed."""

    id: int
    preferred_language: str | None


_U = table(User).c
_ACCOUNT_NOW = sa.select(_U.id, _U.is_active, _U.credentials_changed_at, _U.preferred_language).where(
    _U.id == sa.bindparam("user_id")
)
"""Built once and run as Core: every location fix confirms its account with it."""


def confirm_account(*, session: Session, claims: TokenClaims) -> ConfirmedAccount:
    """The token's account as it is now in this transaction: ``NotAuthenticated`` once it was deleted or
    deactivated, or changed its password or role after the token was issued. For a route whose access
    rule checked the token alone (``auth.access.tourist_token``)."""
    row = session.connection().execute(_ACCOUNT_NOW, {"user_id": claims.user_id}).first()
    if row is None or not token_still_valid(row, claims.issued_at):
        raise NotAuthenticated()
    return ConfirmedAccount(row.id, row.preferred_language)


class AccountState(Protocol):
    """What decides whether an account's token still holds: a ``User`` or a row of those columns."""

    @property
    def is_active(self) -> bool: ...

    @property
    def credentials_changed_at(self) -> datetime | None: ...


def token_still_valid(account: AccountState | None, issued_at: datetime) -> bool:
    """Whether a token issued at ``issued_at`` still speaks for ``account``: it exists, is active, and its
    password or role has not changed since. Token times are whole seconds, so a token issued in the second
    of the change still works (the new login)."""
    if account is None or not account.is_active:
        return False
    changed = account.credentials_changed_at
    return changed is None or issued_at >= changed.replace(microsecond=0)


def change_password(
    *, database: Database, tokens: TokenService, user: User, current_password: str, new_password: str
) -> IssuedToken:
    """Set a new password after checking the current one; every earlier token of the account stops
    working and a fresh one is returned. Hashing runs outside the write transaction."""
    if not verify_password(user.password_hash, current_password):
        raise InvalidInput("The current password is not correct", loc=("body", "current_password"))
    if new_password == current_password:
        raise InvalidInput("The new password must differ from the current one", loc=("body", "new_password"))
    password_hash = hash_password(new_password)
    with database.session() as session:
        _set_credentials(session, user.id, password_hash=password_hash)
        session.commit()
    return _issued(tokens, user)


def update_user(
    *,
    database: Database,
    admin: User | None,
    user_id: int,
    is_active: bool | None = None,
    role: Role | None = None,
    password: str | None = None,
) -> User:
    """An admin (or the operator's command line, ``admin`` None) (re)activates, deactivates, re-roles or
    resets the password of an account; a password or role change ends the account's sessions. An admin
    cannot deactivate or demote themself through the API (nobody could undo it there)."""
    demoted = is_active is False or (role is not None and role != Role.admin)
    if admin is not None and user_id == admin.id and demoted:
        raise Conflict("An admin cannot deactivate or demote their own account")
    password_hash = hash_password(password) if password is not None else None
    with database.session() as session:
        user = session.get(User, user_id)
        if user is None:
            raise NotFound("No such user")
        changes = _changes(user, is_active=is_active, role=role, reset=password_hash is not None)
        if is_active is not None:
            user.is_active = is_active
        if role is not None:
            user.role = role.value
        if "role" in changes or "credentials_reset" in changes:
            _set_credentials(session, user.id, password_hash=password_hash)
        actor_id = admin.id if admin is not None else None
        audit.record(
            session, AuditAction.user_updated, actor_id=actor_id, target=("user", user_id), **changes
        )
        session.commit()
        session.refresh(user)
        return user


def _changes(user: User, *, is_active: bool | None, role: Role | None, reset: bool) -> dict[str, Any]:
    """What an update changes, for the audit log (never the password itself)."""
    changes: dict[str, Any] = {}
    if role is not None and role.value != user.role:
        changes["role"] = {"from": user.role, "to": role.value}
    if is_active is not None and is_active != user.is_active:
        changes["is_active"] = is_active
    if reset:
        changes["credentials_reset"] = True
    return changes


def _set_credentials(session: Session, user_id: int, *, password_hash: str | None) -> None:
    values: dict[str, object] = {"credentials_changed_at": clock.now(), "updated_at": clock.now()}
    if password_hash is not None:
        values["password_hash"] = password_hash
    session.execute(sa.update(User).where(User.id == user_id).values(**values))


def delete_user(*, session: Session, user_id: int) -> None:
    """Delete an account in the caller's transaction (no commit); engine keys bound to it are revoked
    first. Rows that hang off the account follow its foreign keys (deleted or unlinked)."""
    now = clock.now()
    session.execute(
        sa.update(EngineKey)
        .where(EngineKey.owner_id == user_id, EngineKey.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    session.execute(sa.delete(User).where(User.id == user_id))


@dataclass(frozen=True)
class CreatedEngineKey:
    record: EngineKey
    key: str


def create_engine_key(
    *,
    session: Session,
    name: str,
    owner_email: str | None = None,
    latitude: float | None = None,
    longitude: float | None = None,
    actor_id: int | None = None,
    timezone: str | None = None,
) -> CreatedEngineKey:
    """A new engine key, bound to an owner and/or a fixed camera location. The secret is returned once;
    the audit log names the key, never its secret."""
    owner_id = None
    if owner_email is not None:
        owner = get_user_by_email(session=session, email=owner_email)
        if owner is None:
            raise NotFound(f"No user with email {owner_email}")
        owner_id = owner.id
    key = new_engine_key()
    record = EngineKey(
        name=name,
        key_hash=hash_engine_key(key),
        key_prefix=key[:8],
        owner_id=owner_id,
        latitude=latitude,
        longitude=longitude,
        timezone=timezone,
    )
    session.add(record)
    try:
        session.flush()
    except IntegrityError as exc:
        session.rollback()
        raise Conflict(f"An engine key named {name!r} already exists") from exc
    audit.record(
        session, AuditAction.key_created, actor_id=actor_id, target=("engine_key", record.id), name=name
    )
    session.commit()
    return CreatedEngineKey(record, key)


def list_engine_keys(*, session: Session) -> list[EngineKey]:
    return list(session.scalars(sa.select(EngineKey).order_by(EngineKey.id)))


def revoke_engine_key(*, session: Session, name: str, actor_id: int | None = None) -> EngineKey:
    record = session.scalar(sa.select(EngineKey).where(EngineKey.name == name))
    if record is None:
        raise NotFound(f"No engine key named {name!r}")
    if record.revoked_at is None:
        record.revoked_at = clock.now()
        audit.record(
            session, AuditAction.key_revoked, actor_id=actor_id, target=("engine_key", record.id), name=name
        )
        session.commit()
    return record


@dataclass(frozen=True)
class EngineKeyIdentity:
    """What a request needs of an authenticated engine key: which key, its name, owner and camera place."""

    id: int
    name: str
    owner_id: int | None
    latitude: float | None
    longitude: float | None
    timezone: str | None

    @property
    def key_id(self) -> int:
        return self.id


_K = table(EngineKey).c
_LIVE_KEY = sa.select(_K.id, _K.name, _K.owner_id, _K.latitude, _K.longitude, _K.timezone).where(
    _K.key_hash == sa.bindparam("key_hash"), _K.revoked_at.is_(None)
)
"""Built once and run as Core: every engine request authenticates with it."""


def authenticate_engine_key(*, session: Session, key: str) -> EngineKeyIdentity | None:
    """The live key matching ``key``, or None for an unknown or revoked one."""
    row = session.connection().execute(_LIVE_KEY, {"key_hash": hash_engine_key(key)}).first()
    return EngineKeyIdentity(*row) if row is not None else None


_LIVE_KEY_BY_ID = sa.select(_K.id, _K.name, _K.owner_id, _K.latitude, _K.longitude, _K.timezone).where(
    _K.id == sa.bindparam("key_id"), _K.revoked_at.is_(None)
)


def live_engine_key(*, session: Session, key_id: int) -> EngineKeyIdentity | None:
    """The key as it is now in this transaction (its owner and place may have changed since it was
    cached), or None once revoked."""
    row = session.connection().execute(_LIVE_KEY_BY_ID, {"key_id": key_id}).first()
    return EngineKeyIdentity(*row) if row is not None else None


_KEY_NAMED = sa.select(_K.id).where(_K.name == sa.bindparam("name")).limit(1)


def is_engine_key_name(*, session: Session, name: str) -> bool:
    """Whether an engine key (live or revoked) has this name: another key's name is not a source to claim.
    Core on the session's connection: a report naming its own source asks it in the writer's unit."""
    return session.connection().scalar(_KEY_NAMED, {"name": name}) is not None
