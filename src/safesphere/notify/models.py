"""Delivery channels, the outbox of messages to send through them, and every attempt made."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from safesphere.core import clock
from safesphere.core.db import Base, JSONType, UTCDateTime


class ChannelKind(StrEnum):
    webhook = "webhook"
    email = "email"
    sms = "sms"
    webpush = "webpush"
    log = "log"


class ChannelRole(StrEnum):
    """What a channel is for: routing picks channels by the role of the message's audience."""

    police = "police"
    supervisor = "supervisor"
    contacts_sms = "contacts_sms"
    contacts_email = "contacts_email"
    user = "user"


class Audience(StrEnum):
    """Who a message is for."""

    police = "police"
    supervisor = "supervisor"
    contact = "contact"
    user = "user"


class DeliveryStatus(StrEnum):
    pending = "pending"
    sending = "sending"
    sent = "sent"
    failed = "failed"
    cancelled = "cancelled"
    """No longer wanted when its turn came (an escalation page after the incident was acknowledged)."""


class Channel(Base):
    """A channel an admin configured; ``secret`` is write-only (never returned by the API)."""

    __tablename__ = "channels"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(64), unique=True)
    kind: Mapped[str] = mapped_column(sa.String(16))
    config: Mapped[dict[str, Any]] = mapped_column(JSONType)
    secret: Mapped[str | None] = mapped_column(sa.Text)
    roles: Mapped[list[str]] = mapped_column(JSONType)
    enabled: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now, onupdate=clock.now)


class Delivery(Base):
    """One message to one recipient through one channel: written in the transaction that caused it."""

    __tablename__ = "deliveries"
    __table_args__ = (
        sa.Index("ix_deliveries_status_next_attempt_at", "status", "next_attempt_at"),
        sa.Index("ix_deliveries_source", "source_kind", "source_id"),
        # The notifications history and the hourly analytics: newest first within a time range, and the
        # failed ones first (one status, newest first).
        sa.Index("ix_deliveries_created_at", "created_at", "id"),
        sa.Index("ix_deliveries_status_created_at", "status", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(sa.String(200), unique=True)
    channel: Mapped[str] = mapped_column(sa.String(64))
    kind: Mapped[str] = mapped_column(sa.String(16))
    audience: Mapped[str] = mapped_column(sa.String(16))
    recipient: Mapped[str] = mapped_column(sa.String(500))
    subject: Mapped[str] = mapped_column(sa.String(300))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)
    source_kind: Mapped[str] = mapped_column(sa.String(32))
    source_id: Mapped[str] = mapped_column(sa.String(64))
    incident_id: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    status: Mapped[str] = mapped_column(sa.String(16), default=DeliveryStatus.pending.value)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claim_token: Mapped[str | None] = mapped_column(sa.String(32))
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class DeliveryAttempt(Base):
    """One try at sending a delivery: when, how long, and what happened."""

    __tablename__ = "delivery_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(sa.ForeignKey("deliveries.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime)
    latency_ms: Mapped[float]
    outcome: Mapped[str] = mapped_column(sa.String(16))
    status_code: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(sa.Text)


class PushSubscription(Base):
    """One device's Web Push subscription (the browser's ``PushSubscription``): where and how to encrypt."""

    __tablename__ = "push_subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    endpoint: Mapped[str] = mapped_column(sa.String(1000), unique=True)
    p256dh: Mapped[str] = mapped_column(sa.String(200))
    auth: Mapped[str] = mapped_column(sa.String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)


class WebPushKey(Base):
    """The installation's one VAPID private key (PEM), encrypted with the field key: every instance on
    this database signs with it, so a device subscribed through one is reached by all (one row, id 1)."""

    __tablename__ = "web_push_keys"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    private_key: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
