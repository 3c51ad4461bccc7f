"""Failed-login throttling: after too many wrong passwords a client waits (429 with ``Retry-After``).

Two counters, each over a fixed window of ``login_failure_window_s``:

- one per **account and client address**: ``login_max_failures`` wrong passwords for one e-mail from one
  address lock that pair for ``login_lockout_s``. Someone guessing an officer's password from elsewhere
  does not lock the officer out at the control-room desk;
- one per **client address**: ``login_max_failures_per_address`` failures across any accounts lock the
  address, against one client trying many accounts.

While a key is locked its logins are refused before the password is checked, so a locked client learns
nothing about the password and costs no password hash. A successful login clears its account-and-address
counter. Counters live in the database, so every process and host counts the same failures; the keys are
SHA-256 hashes of what they count, so no e-mail address or IP is kept. Whether the account exists makes
no difference to any of it (no account enumeration through the throttle).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from safesphere.auth.models import LoginFailure
from safesphere.core.config import Settings
from safesphere.core.db import table

_failures = table(LoginFailure)


@dataclass(frozen=True)
class ThrottleKey:
    key_hash: str
    limit: int


@dataclass(frozen=True)
class LoginThrottle:
    max_failures: int
    max_failures_per_address: int
    window: timedelta
    lockout: timedelta

    @classmethod
    def from_settings(cls, settings: Settings) -> LoginThrottle:
        return cls(
            max_failures=settings.login_max_failures,
            max_failures_per_address=settings.login_max_failures_per_address,
            window=timedelta(seconds=settings.login_failure_window_s),
            lockout=timedelta(seconds=settings.login_lockout_s),
        )

    def keys(self, *, email: str, address: str) -> tuple[ThrottleKey, ThrottleKey]:
        """The (account and address, address) keys of a login attempt; ``email`` normalized."""
        return (
            ThrottleKey(_hash(f"account:{email}\n{address}"), self.max_failures),
            ThrottleKey(_hash(f"address:{address}"), self.max_failures_per_address),
        )


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


@dataclass(frozen=True)
class ThrottleState:
    retry_after_s: int | None
    """Whole seconds until every key is unlocked; None when none is locked."""
    counted: frozenset[str]
    """The key hashes with failures counted."""


def state(session: Session, keys: tuple[ThrottleKey, ...], *, now: datetime) -> ThrottleState:
    """Whether any of ``keys`` is locked, and which have failures counted (one read)."""
    f = _failures.c
    rows = session.execute(
        sa.select(f.key_hash, f.locked_until).where(f.key_hash.in_([key.key_hash for key in keys]))
    ).all()
    locked = [until for _, until in rows if until is not None and until > now]
    wait_s = max(1, math.ceil((max(locked) - now).total_seconds())) if locked else None
    return ThrottleState(wait_s, frozenset(key_hash for key_hash, _ in rows))


def record_failure(
    session: Session, throttle: LoginThrottle, keys: tuple[ThrottleKey, ...], *, now: datetime
) -> None:
    """Count a failed login against each key (a new window when the last one ended) and lock a key that
    reached its limit; rows nobody has failed on for a window and a lockout are dropped. The caller
    commits."""
    f = _failures.c
    stale_before = now - throttle.window - throttle.lockout
    session.execute(sa.delete(_failures).where(f.updated_at < stale_before))
    upsert = _upsert(session.get_bind().dialect.name)
    session.execute(
        upsert,
        [
            {
                "key_hash": key.key_hash,
                "failures": 1,
                "window_started_at": now,
                "locked_until": now + throttle.lockout if key.limit <= 1 else None,
                "updated_at": now,
                "window_start": now - throttle.window,
                "limit": key.limit,
                "lock_end": now + throttle.lockout,
            }
            for key in keys
        ],
    )


def forget(session: Session, key: ThrottleKey) -> None:
    """Clear one key's count (after a successful login). The caller commits."""
    session.execute(sa.delete(_failures).where(_failures.c.key_hash == key.key_hash))


def _upsert(dialect: str) -> sa.Insert:
    """One statement per key on SQLite and PostgreSQL alike, so two failures racing both count."""
    insert = postgresql.insert(_failures) if dialect == "postgresql" else sqlite.insert(_failures)
    f = _failures.c
    in_window = f.window_started_at > sa.bindparam("window_start", type_=f.window_started_at.type)
    failures = sa.case((in_window, f.failures + 1), else_=sa.literal(1))
    limit = sa.bindparam("limit", type_=sa.Integer())
    lock_end = sa.bindparam("lock_end", type_=f.locked_until.type)
    return insert.on_conflict_do_update(
        index_elements=[f.key_hash],
        set_={
            "failures": failures,
            "window_started_at": sa.case(
                (in_window, f.window_started_at), else_=insert.excluded.window_started_at
            ),
            "locked_until": sa.case((failures >= limit, lock_end), else_=f.locked_until),
            "updated_at": insert.excluded.updated_at,
        },
    )
