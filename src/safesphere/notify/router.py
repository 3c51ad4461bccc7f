"""Channels (admins configure them; secrets are write-only) and deliveries (authorities watch them)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from safesphere.auth.access import AdminUser, AuthorityUser
from safesphere.core.dependencies import DbSession, ReadSession, SettingsDep
from safesphere.core.errors import responses
from safesphere.core.params import Instant, Offset, PathId
from safesphere.notify import history, service
from safesphere.notify.history import DeliveryFilter, DeliveryOrder
from safesphere.notify.models import Audience, Channel, Delivery, DeliveryStatus
from safesphere.notify.outbox import channel_spec
from safesphere.notify.routing import ChannelSpec
from safesphere.notify.schemas import (
    NAME_PATTERN,
    AttemptOut,
    ChannelIn,
    ChannelOut,
    ChannelPatch,
    DeliveryDetailOut,
    DeliveryOut,
    DeliveryPage,
)

channels_router = APIRouter(prefix="/admin/channels", tags=["admin"], responses=responses(401, 403))
deliveries_router = APIRouter(prefix="/deliveries", tags=["deliveries"], responses=responses(401, 403))
CHANNEL_NOT_FOUND = responses(n404="Channel not found")


def channel_out(channel_id: int | None, spec: ChannelSpec) -> ChannelOut:
    return ChannelOut(
        id=channel_id,
        name=spec.name,
        kind=spec.kind,
        config=dict(spec.config),
        roles=sorted(spec.roles),
        enabled=spec.enabled,
        has_secret=bool(spec.secret),
        managed_by=spec.managed_by,
    )


def _stored_out(channel: Channel) -> ChannelOut:
    return channel_out(channel.id, channel_spec(channel))


@channels_router.get("", response_model=list[ChannelOut])
def list_channels(session: ReadSession, settings: SettingsDep, _: AdminUser) -> list[ChannelOut]:
    """Every channel: the admin's, those from settings (read-only) and the built-in log."""
    return [channel_out(cid, spec) for cid, spec in service.list_channels(session=session, settings=settings)]


@channels_router.post(
    "", response_model=ChannelOut, status_code=status.HTTP_201_CREATED, responses=responses(409)
)
def create_channel(body: ChannelIn, session: DbSession, _: AdminUser) -> ChannelOut:
    return _stored_out(service.create_channel(session=session, channel_in=body))


@channels_router.patch("/{channel_id}", response_model=ChannelOut, responses=CHANNEL_NOT_FOUND)
def update_channel(channel_id: PathId, body: ChannelPatch, session: DbSession, _: AdminUser) -> ChannelOut:
    """Change config, roles, enabled, or the secret (an empty secret removes it)."""
    return _stored_out(service.update_channel(session=session, channel_id=channel_id, patch=body))


@channels_router.delete("/{channel_id}", status_code=status.HTTP_204_NO_CONTENT, responses=CHANNEL_NOT_FOUND)
def delete_channel(channel_id: PathId, session: DbSession, _: AdminUser) -> None:
    service.delete_channel(session=session, channel_id=channel_id)


def delivery_out(delivery: Delivery) -> DeliveryOut:
    return DeliveryOut.from_delivery(delivery)


@deliveries_router.get("", response_model=DeliveryPage)
def list_deliveries(
    session: ReadSession,
    settings: SettingsDep,
    _: AuthorityUser,
    status: DeliveryStatus | None = None,
    channel: Annotated[str | None, Query(pattern=NAME_PATTERN, description="A channel's name.")] = None,
    audience: Annotated[Audience | None, Query(description="Who the message was for.")] = None,
    since: Annotated[Instant | None, Query(description="Queued at or after (naive: default zone).")] = None,
    until: Annotated[Instant | None, Query(description="Queued before (naive: default zone).")] = None,
    source_kind: Annotated[str | None, Query(max_length=32)] = None,
    source_id: Annotated[str | None, Query(max_length=64)] = None,
    incident_id: Annotated[str | None, Query(max_length=64)] = None,
    order: DeliveryOrder = DeliveryOrder.newest,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Offset = 0,
) -> DeliveryPage:
    """The notifications history: every message the platform owes someone, across incidents and alerts,
    newest first (``order=failed_first``: the failed ones first), with its delivery state, attempts, last
    error and time to deliver; ``counts`` by status for the other filters. Recipients include contacts'
    own addresses: for authorities only."""
    since, until = history.time_range(since, until, settings.tz)
    filters = DeliveryFilter(
        status=status, channel=channel, audience=audience, since=since, until=until,
        source_kind=source_kind, source_id=source_id, incident_id=incident_id,
    )  # fmt: skip
    page = history.list_deliveries(session=session, filters=filters, order=order, limit=limit, offset=offset)
    return DeliveryPage(
        total=page.total,
        counts=page.counts,
        limit=limit,
        offset=offset,
        deliveries=[delivery_out(d) for d in page.deliveries],
    )


@deliveries_router.get(
    "/{delivery_id}", response_model=DeliveryDetailOut, responses=responses(n404="Delivery not found")
)
def get_delivery(delivery_id: PathId, session: ReadSession, _: AuthorityUser) -> DeliveryDetailOut:
    """One delivery with its payload and every attempt (time, latency, outcome, error)."""
    delivery, attempts = service.get_delivery(session=session, delivery_id=delivery_id)
    return DeliveryDetailOut(
        **delivery_out(delivery).model_dump(),
        payload=dict(delivery.payload),
        attempt_log=[AttemptOut.model_validate(a, from_attributes=True) for a in attempts],
    )
