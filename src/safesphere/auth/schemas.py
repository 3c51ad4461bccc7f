"""Request and response bodies of the accounts API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field, model_validator

from safesphere.auth.models import Role
from safesphere.core.timezones import checked_zone_name

PASSWORD_MIN_LENGTH = 8
"""Short enough for a phone keyboard, long enough that argon2 is not guarding a PIN."""


class RegisterIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: EmailStr
    password: str = Field(min_length=PASSWORD_MIN_LENGTH, max_length=256)
    name: str | None = Field(default=None, max_length=200)


class UserCreateIn(RegisterIn):
    role: Role


class PasswordChangeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    current_password: str = Field(min_length=1, max_length=256)
    new_password: str = Field(min_length=PASSWORD_MIN_LENGTH, max_length=256)


class UserUpdateIn(BaseModel):
    """What an admin changes about an account; at least one field."""

    model_config = ConfigDict(extra="forbid")

    is_active: bool | None = None
    role: Role | None = None
    password: str | None = Field(default=None, min_length=PASSWORD_MIN_LENGTH, max_length=256)

    @model_validator(mode="after")
    def _something_to_change(self) -> UserUpdateIn:
        if self.is_active is None and self.role is None and self.password is None:
            raise ValueError("give is_active, role or password")
        return self


class LoginIn(BaseModel):
    email: EmailStr
    password: str = Field(min_length=1, max_length=256)


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the OAuth2 token type, not a secret
    expires_in: int
    role: Role


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    role: Role
    name: str | None
    phone: str | None
    preferred_language: str | None
    is_active: bool
    created_at: datetime


class EngineKeyCreateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.\-]+$")
    owner_email: EmailStr | None = None
    latitude: float | None = Field(default=None, ge=-90, le=90, strict=True, allow_inf_nan=False)
    longitude: float | None = Field(default=None, ge=-180, le=180, strict=True, allow_inf_nan=False)
    timezone: Annotated[str, Field(max_length=64), AfterValidator(checked_zone_name)] | None = Field(
        default=None,
        description="IANA zone (e.g. America/Phoenix) naive report times are read in when the key has no "
        "fixed place (a fixed place's own zone wins).",
    )

    @model_validator(mode="after")
    def _both_or_neither(self) -> EngineKeyCreateIn:
        if (self.latitude is None) != (self.longitude is None):
            raise ValueError("latitude and longitude go together: give both or neither")
        return self


class EngineKeyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    key_prefix: str
    owner_id: int | None
    latitude: float | None
    longitude: float | None
    timezone: str | None
    created_at: datetime
    revoked_at: datetime | None


class EngineKeyCreatedOut(EngineKeyOut):
    key: str = Field(description="The secret key. Shown once; only its hash is stored.")
