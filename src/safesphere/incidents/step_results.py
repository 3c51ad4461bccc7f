"""What a protocol step's ``result`` says happened. Pure: the facts are gathered while the step's rows are
written (who each message reached and by which channels, the device command, the place).

A result never says "pending" for a message nobody will receive: each message is ``queued`` to so many
recipients by named channels, ``no_recipients`` (nobody to send it to, e.g. contacts of an incident
without an owner), or ``no_channel`` (no configured channel serves them: the built-in log channel writes
it to the server log only).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from safesphere.notify.routing import LOG_CHANNEL

NO_RECIPIENTS = "no_recipients"
NO_CHANNEL = "no_channel"
NO_LOCATION = "no location"
"""A message about an unlocated incident says "unknown location"; the result says so."""
NO_DEVICE = "no device: the incident has no reporting engine key"
NOTHING_SENT = "recorded"
"""A step with neither a message nor a device command (e.g. LOW's ``log_incident``)."""


@dataclass(frozen=True)
class MessageReach:
    """One stored message of a step: its recipient kind and, per recipient, the channels that carry it."""

    recipient: str
    channels: tuple[tuple[str, ...], ...]


def _people(count: int) -> str:
    return f"{count} recipient{'' if count == 1 else 's'}"


def message_result(reach: MessageReach) -> str:
    """``police_dispatch: queued to 1 recipient by police-webhook``, ``emergency_contacts: no_recipients``,
    ``user: no_channel (server log only, 1 recipient)``."""
    if not reach.channels:
        return f"{reach.recipient}: {NO_RECIPIENTS}"
    served = [names for names in reach.channels if set(names) != {LOG_CHANNEL.name}]
    logged = len(reach.channels) - len(served)
    if not served:
        return f"{reach.recipient}: {NO_CHANNEL} (server log only, {_people(logged)})"
    channels = ", ".join(sorted({name for names in served for name in names} - {LOG_CHANNEL.name}))
    result = f"{reach.recipient}: queued to {_people(len(served))} by {channels}"
    if logged:
        result += f"; {NO_CHANNEL} for {_people(logged)} (server log only)"
    return result


def step_result(
    *,
    messages: Sequence[MessageReach],
    located: bool,
    command: str | None,
    has_device: bool,
    route_note: str | None = None,
) -> str:
    """The whole step: its safe-route note (``safe_route``), each message, ``no location`` when a message
    has no place to name, and the device command queued for the reporting engine (``command``, the
    step's command type, if it has one)."""
    parts = [route_note] if route_note is not None else []
    parts += [message_result(reach) for reach in messages]
    if messages and not located and route_note is None:
        parts.append(NO_LOCATION)
    if command is not None:
        parts.append(f"device: {command} queued" if has_device else NO_DEVICE)
    return "; ".join(parts) or NOTHING_SENT
