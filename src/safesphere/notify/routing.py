"""Which channels and addresses a message for an audience goes to. Pure: no database, no network."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from safesphere.notify.models import Audience, ChannelKind, ChannelRole


@dataclass(frozen=True)
class ChannelSpec:
    """A usable channel, from the database (an admin's) or from settings."""

    name: str
    kind: ChannelKind
    roles: frozenset[ChannelRole]
    config: Mapping[str, Any] = field(default_factory=dict)
    secret: str | None = None
    enabled: bool = True
    managed_by: Literal["api", "settings", "built-in"] = "api"


@dataclass(frozen=True)
class Recipient:
    """A person or service a message is for; contacts and users bring their own addresses."""

    audience: Audience
    name: str
    email: str | None = None
    phone: str | None = None


@dataclass(frozen=True)
class Route:
    channel: ChannelSpec
    address: str


LOG_CHANNEL = ChannelSpec(
    name="log", kind=ChannelKind.log, roles=frozenset(ChannelRole), managed_by="built-in"
)
"""Where a message goes when no channel serves its audience: a new install shows every delivery."""

AUDIENCE_ROLES: dict[Audience, frozenset[ChannelRole]] = {
    Audience.police: frozenset({ChannelRole.police}),
    Audience.supervisor: frozenset({ChannelRole.supervisor}),
    Audience.contact: frozenset({ChannelRole.contacts_sms, ChannelRole.contacts_email}),
    Audience.user: frozenset({ChannelRole.user}),
}


def address_for(channel: ChannelSpec, recipient: Recipient) -> str | None:
    """The address this channel would use for the recipient, or None when it cannot reach them.

    People (contacts, the protected user) are reached at their own e-mail or phone; services (police,
    supervisor) at the address configured on the channel (``to``) or the webhook's URL.
    """
    personal = recipient.audience in (Audience.contact, Audience.user)
    if channel.kind is ChannelKind.webhook:
        return str(channel.config.get("url") or "") or None
    if channel.kind is ChannelKind.email:
        return recipient.email if personal else channel.config.get("to")
    if channel.kind is ChannelKind.sms:
        return recipient.phone if personal else channel.config.get("to")
    if channel.kind is ChannelKind.webpush:
        return None  # devices, not people: notify/push.py plans these deliveries per subscription
    return recipient.name


def routes(recipient: Recipient, channels: Iterable[ChannelSpec]) -> list[Route]:
    """Every enabled channel serving the recipient's audience that can reach them; else the log channel."""
    wanted = AUDIENCE_ROLES[recipient.audience]
    found = []
    for channel in sorted(channels, key=lambda c: c.name):
        if not channel.enabled or not channel.roles & wanted:
            continue
        address = address_for(channel, recipient)
        if address:
            found.append(Route(channel, address))
    return found or [Route(LOG_CHANNEL, address_for(LOG_CHANNEL, recipient) or recipient.audience.value)]
