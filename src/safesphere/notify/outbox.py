"""The transactional outbox: deliveries are rows written in the caller's transaction, sent later.

Callers (incident protocol, SOS, anomaly alerts, escalation) route their recipients to channels with
``planned`` (one row per channel and address, keyed by a stable idempotency key) and add the rows with
``enqueue_all`` in one bulk insert, without committing. When the caller's transaction commits, the
in-process delivery worker is woken at once; other processes' rows are found by polling.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from safesphere.core import clock
from safesphere.core.config import Settings
from safesphere.core.db import table
from safesphere.notify.models import Channel, ChannelKind, ChannelRole, Delivery, DeliveryStatus
from safesphere.notify.routing import ChannelSpec, Recipient, routes

ENQUEUED_FLAG = "safesphere.deliveries_enqueued"
_DELIVERIES = table(Delivery)
_CHANNELS = sa.select(*table(Channel).c)
"""Core statements on the session's connection: the outbox is on every report's path."""
_wakers: set[Callable[[], None]] = set()


def add_waker(wake: Callable[[], None]) -> None:
    """Called after any transaction that enqueued deliveries commits (the worker registers itself)."""
    _wakers.add(wake)


def remove_waker(wake: Callable[[], None]) -> None:
    _wakers.discard(wake)


@event.listens_for(Session, "after_commit")
def _wake_workers(session: Session) -> None:
    if session.info.pop(ENQUEUED_FLAG, False):
        for wake in list(_wakers):
            wake()


def settings_channels(settings: Settings) -> list[ChannelSpec]:
    """Channels configured by environment: read-only in the API, usable without any set-up call."""
    found = []
    if settings.police_webhook_url:
        secret = settings.police_webhook_secret
        found.append(
            ChannelSpec(
                "police-webhook", ChannelKind.webhook, frozenset({ChannelRole.police}),
                {"url": settings.police_webhook_url}, secret.get_secret_value() if secret else None,
                managed_by="settings",
            )
        )  # fmt: skip
    if settings.supervisor_webhook_url:
        secret = settings.supervisor_webhook_secret
        found.append(
            ChannelSpec(
                "supervisor-webhook", ChannelKind.webhook, frozenset({ChannelRole.supervisor}),
                {"url": settings.supervisor_webhook_url}, secret.get_secret_value() if secret else None,
                managed_by="settings",
            )
        )  # fmt: skip
    if settings.smtp_host:
        password = settings.smtp_password
        config = {
            "host": settings.smtp_host, "port": settings.smtp_port, "username": settings.smtp_username,
            "from": settings.smtp_from, "starttls": settings.smtp_starttls,
        }  # fmt: skip
        found.append(
            ChannelSpec(
                "smtp", ChannelKind.email, frozenset({ChannelRole.contacts_email, ChannelRole.user}), config,
                password.get_secret_value() if password else None, managed_by="settings",
            )
        )  # fmt: skip
    if settings.sms_gateway_url:
        token = settings.sms_gateway_token
        config = {
            "url": settings.sms_gateway_url, "format": settings.sms_gateway_format,
            "username": settings.sms_gateway_username,
        }  # fmt: skip
        found.append(
            ChannelSpec(
                "sms-gateway", ChannelKind.sms, frozenset({ChannelRole.contacts_sms, ChannelRole.user}),
                config, token.get_secret_value() if token else None, managed_by="settings",
            )
        )  # fmt: skip
    return found


def channel_spec(channel: Channel) -> ChannelSpec:
    return ChannelSpec(
        name=channel.name,
        kind=ChannelKind(channel.kind),
        roles=frozenset(ChannelRole(role) for role in channel.roles),
        config=dict(channel.config),
        secret=channel.secret,
        enabled=channel.enabled,
    )


def active_channels(session: Session, settings: Settings) -> list[ChannelSpec]:
    """Settings channels plus the admin's channels (an admin channel of the same name wins)."""
    stored = [channel_spec(Channel(**row._asdict())) for row in session.connection().execute(_CHANNELS)]
    names = {c.name for c in stored}
    return [*stored, *(c for c in settings_channels(settings) if c.name not in names)]


@cache
def _insert_new(dialect: str) -> sa.Insert:
    """One bulk INSERT that leaves a key already stored alone (a retried cause, or another process's
    insert racing this one) and returns the keys it added. Both databases say ``ON CONFLICT DO NOTHING``."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return (
        insert(_DELIVERIES)
        .on_conflict_do_nothing(index_elements=[_DELIVERIES.c.idempotency_key])
        .returning(_DELIVERIES.c.idempotency_key)
    )


def enqueue_all(*, session: Session, deliveries: list[dict[str, Any]]) -> int:
    """Adds the planned deliveries in the caller's transaction (no commit) with one bulk insert; a key
    that exists already (a retried cause) keeps its row. Returns how many were added."""
    now = clock.now()
    new: dict[str, dict[str, Any]] = {}
    for row in deliveries:
        new.setdefault(
            row["idempotency_key"],
            {**row, "status": DeliveryStatus.pending.value, "attempts": 0, "next_attempt_at": now,
             "created_at": now},
        )  # fmt: skip
    if not new:
        return 0
    connection = session.connection()
    added = len(connection.execute(_insert_new(connection.dialect.name), list(new.values())).all())
    if added:
        session.info[ENQUEUED_FLAG] = True
    return added


ADDRESS_IN_KEY_LIMIT = 80
"""Longer addresses (webhook URLs) are hashed so the key stays short and fits its column."""


def _key_part(address: str) -> str:
    if len(address) <= ADDRESS_IN_KEY_LIMIT:
        return address
    return hashlib.sha256(address.encode("utf-8")).hexdigest()[:24]


def planned(
    *,
    channels: list[ChannelSpec],
    recipients: Iterable[Recipient],
    subject: str,
    payload: dict[str, Any],
    key_prefix: str,
    source_kind: str,
    source_id: str | int,
    incident_id: str | None = None,
) -> list[dict[str, Any]]:
    """A delivery row for every route of every recipient, keyed ``{key_prefix}:{channel}:{address}``."""
    rows = []
    for recipient in recipients:
        for route in routes(recipient, channels):
            key = f"{key_prefix}:{route.channel.name}:{_key_part(route.address)}"
            rows.append(
                {
                    "idempotency_key": key,
                    "channel": route.channel.name,
                    "kind": route.channel.kind.value,
                    "audience": recipient.audience.value,
                    "recipient": route.address,
                    "subject": subject,
                    "payload": {**payload, "idempotency_key": key},
                    "source_kind": source_kind,
                    "source_id": str(source_id),
                    "incident_id": incident_id,
                }
            )
    return rows
