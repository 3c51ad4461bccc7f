"""Request and response shapes of channels and deliveries. Secrets go in, never out."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, field_validator

from safesphere.notify.models import ChannelKind, ChannelRole

NAME_PATTERN = r"^[a-z0-9][a-z0-9_.-]{0,63}$"


class WebhookConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: AnyHttpUrl


class EmailConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    host: str = Field(min_length=1, max_length=253)
    port: int = Field(default=587, ge=1, le=65535)
    username: str | None = None
    from_: str = Field(default="safesphere@localhost", alias="from", min_length=3, max_length=320)
    starttls: bool = False
    to: str | None = Field(default=None, description="Address for police/supervisor roles.")


class SmsConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: AnyHttpUrl
    format: Literal["json", "form"] = "json"
    auth: Literal["none", "basic", "bearer"] | None = None
    username: str | None = None
    to_field: str = Field(default="to", min_length=1, max_length=64)
    message_field: str = Field(default="message", min_length=1, max_length=64)
    extra: dict[str, str] = Field(default_factory=dict, description="Fixed fields, e.g. the sender number.")
    to: str | None = Field(default=None, description="Number for police/supervisor roles.")


class LogConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")


CONFIG_MODELS: dict[ChannelKind, type[BaseModel]] = {
    ChannelKind.webhook: WebhookConfig,
    ChannelKind.email: EmailConfig,
    ChannelKind.sms: SmsConfig,
    ChannelKind.log: LogConfig,
}


def normalized_config(kind: ChannelKind, config: dict[str, Any]) -> dict[str, Any]:
    """The config checked against its kind's shape, as stored (JSON-ready, ``from`` under its own name)."""
    return (
        CONFIG_MODELS[kind].model_validate(config).model_dump(mode="json", by_alias=True, exclude_none=True)
    )


class ChannelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=NAME_PATTERN)
    kind: ChannelKind
    config: dict[str, Any] = Field(default_factory=dict)
    secret: str | None = Field(
        default=None,
        max_length=4096,
        description="Webhook signing secret, SMTP password or SMS token; write-only.",
    )
    roles: list[ChannelRole] = Field(min_length=1)
    enabled: bool = True

    @field_validator("kind")
    @classmethod
    def _not_built_in(cls, kind: ChannelKind) -> ChannelKind:
        if kind not in CONFIG_MODELS:
            raise ValueError(f"{kind} is built in (devices subscribe at /me/push-subscriptions)")
        return kind


class ChannelPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    config: dict[str, Any] | None = None
    secret: str | None = Field(default=None, max_length=4096)
    roles: list[ChannelRole] | None = Field(default=None, min_length=1)
    enabled: bool | None = None


class ChannelOut(BaseModel):
    id: int | None
    name: str
    kind: ChannelKind
    config: dict[str, Any]
    roles: list[ChannelRole]
    enabled: bool
    has_secret: bool
    managed_by: Literal["api", "settings", "built-in"]


class AttemptOut(BaseModel):
    number: int
    started_at: datetime
    finished_at: datetime
    latency_ms: float
    outcome: str
    status_code: int | None
    error: str | None


class DeliveryOut(BaseModel):
    id: int
    idempotency_key: str
    channel: str
    kind: str
    audience: str
    recipient: str
    subject: str
    status: str
    attempts: int
    source_kind: str
    source_id: str
    incident_id: str | None
    next_attempt_at: datetime | None
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
    failed_at: datetime | None
    deliver_ms: int | None = Field(
        default=None, description="Queued to sent, in milliseconds (null until sent)."
    )

    @classmethod
    def from_delivery(cls, delivery: Any) -> DeliveryOut:
        out = cls.model_validate(delivery, from_attributes=True)
        if out.sent_at is not None:
            out.deliver_ms = max(0, round((out.sent_at - out.created_at).total_seconds() * 1000))
        return out


class DeliveryDetailOut(DeliveryOut):
    payload: dict[str, Any]
    attempt_log: list[AttemptOut]


class DeliveryPage(BaseModel):
    total: int = Field(description="Deliveries matching every filter.")
    counts: dict[str, int] = Field(
        description="Deliveries by status matching every filter but ``status``: pending, sending, sent, "
        "failed, cancelled."
    )
    limit: int
    offset: int
    deliveries: list[DeliveryOut]
