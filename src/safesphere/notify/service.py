"""Use cases of channels (admin) and deliveries (authorities), and the delivery figures of statistics."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from safesphere.core.config import Settings
from safesphere.core.errors import Conflict, InvalidInput, NotFound
from safesphere.notify import outbox
from safesphere.notify.models import Channel, ChannelKind, Delivery, DeliveryAttempt, DeliveryStatus
from safesphere.notify.routing import LOG_CHANNEL, ChannelSpec
from safesphere.notify.schemas import ChannelIn, ChannelPatch, normalized_config


def _config(kind: ChannelKind, config: dict[str, Any]) -> dict[str, Any]:
    try:
        return normalized_config(kind, config)
    except ValidationError as exc:
        error = exc.errors()[0]
        raise InvalidInput(error["msg"], loc=("body", "config", *(str(p) for p in error["loc"]))) from exc


def list_channels(*, session: Session, settings: Settings) -> list[tuple[int | None, ChannelSpec]]:
    """Every channel messages can go through: the admin's, the settings', and the built-in log."""
    stored = list(session.scalars(sa.select(Channel).order_by(Channel.name)))
    names = {c.name for c in stored}
    from_settings = [(None, c) for c in outbox.settings_channels(settings) if c.name not in names]
    return [*((c.id, outbox.channel_spec(c)) for c in stored), *from_settings, (None, LOG_CHANNEL)]


def _require(session: Session, channel_id: int) -> Channel:
    channel = session.get(Channel, channel_id)
    if channel is None:
        raise NotFound("Channel not found")
    return channel


def create_channel(*, session: Session, channel_in: ChannelIn) -> Channel:
    if channel_in.name == LOG_CHANNEL.name:
        raise Conflict("The name 'log' belongs to the built-in log channel")
    channel = Channel(
        name=channel_in.name,
        kind=channel_in.kind.value,
        config=_config(channel_in.kind, channel_in.config),
        secret=channel_in.secret,
        roles=sorted({r.value for r in channel_in.roles}),
        enabled=channel_in.enabled,
    )
    session.add(channel)
    try:
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        raise Conflict(f"A channel named {channel_in.name!r} already exists") from exc
    return channel


def update_channel(*, session: Session, channel_id: int, patch: ChannelPatch) -> Channel:
    channel = _require(session, channel_id)
    if patch.config is not None:
        channel.config = _config(ChannelKind(channel.kind), patch.config)
    if patch.secret is not None:
        channel.secret = patch.secret or None
    if patch.roles is not None:
        channel.roles = sorted({r.value for r in patch.roles})
    if patch.enabled is not None:
        channel.enabled = patch.enabled
    session.commit()
    return channel


def delete_channel(*, session: Session, channel_id: int) -> None:
    """Deleting a channel leaves its deliveries as history; pending ones fail with a clear error."""
    session.delete(_require(session, channel_id))
    session.commit()


def get_delivery(*, session: Session, delivery_id: int) -> tuple[Delivery, list[DeliveryAttempt]]:
    delivery = session.get(Delivery, delivery_id)
    if delivery is None:
        raise NotFound("Delivery not found")
    attempts = session.scalars(
        sa.select(DeliveryAttempt)
        .where(DeliveryAttempt.delivery_id == delivery_id)
        .order_by(DeliveryAttempt.number)
    )
    return delivery, list(attempts)


def delivery_counts(*, session: Session) -> dict[str, int]:
    """How many deliveries are in each status (every status, zero included)."""
    query = sa.select(Delivery.status, sa.func.count()).group_by(Delivery.status)
    counts = {status: int(count) for status, count in session.execute(query)}
    return {status.value: int(counts.get(status.value, 0)) for status in DeliveryStatus}
