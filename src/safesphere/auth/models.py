"""Accounts and engine keys."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from safesphere.core import clock
from safesphere.core.db import Base, UTCDateTime


class Role(StrEnum):
    tourist = "tourist"
    authority = "authority"
    admin = "admin"


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(sa.String(200))
    role: Mapped[str] = mapped_column(sa.String(16), index=True)
    name: Mapped[str | None] = mapped_column(sa.String(200))
    phone: Mapped[str | None] = mapped_column(sa.String(40))
    preferred_language: Mapped[str | None] = mapped_column(sa.String(16))
    """None until the user chooses; then Accept-Language decides."""
    is_active: Mapped[bool] = mapped_column(default=True)
    credentials_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    """When the password or role last changed: tokens issued before it no longer work."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now, onupdate=clock.now)


class EngineKey(Base):
    """An API key a detection engine reports with; only its SHA-256 is stored."""

    __tablename__ = "engine_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100), unique=True)
    key_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    key_prefix: Mapped[str] = mapped_column(sa.String(12))
    owner_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    timezone: Mapped[str | None] = mapped_column(sa.String(64))
    """IANA zone its naive report times are read in when it has no fixed place."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LoginFailure(Base):
    """Failed logins counted for one throttle key in a fixed window (``auth.throttle``). The key is a
    SHA-256 of what it counts (an account and client address, or an address), never the e-mail or IP."""

    __tablename__ = "login_failures"

    key_hash: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    failures: Mapped[int]
    window_started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
