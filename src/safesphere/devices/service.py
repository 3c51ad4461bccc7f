"""Use cases of device commands: issue them with a report, hand them to the engine, take its ack."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from safesphere.core import clock
from safesphere.core.db import table
from safesphere.core.errors import NotFound
from safesphere.devices.commands import commands_for_steps, stops_for
from safesphere.devices.models import CommandStatus, DeviceCommand

_INSERT_COMMANDS = sa.insert(table(DeviceCommand)).returning(*table(DeviceCommand).c)
MAX_FETCH = 100
"""Commands handed out per fetch; an engine polls again for the rest."""


def issue_for_incident(
    *, session: Session, engine_key_id: int, incident_id: str, action_types: list[str]
) -> list[DeviceCommand]:
    """The protocol's device commands for the reporting engine, in the report's transaction (one bulk
    Core insert; the stored rows come back in any order and are returned by id, unattached)."""
    now = clock.now()
    rows = [
        {
            "engine_key_id": engine_key_id,
            "incident_id": incident_id,
            "type": spec.type,
            "params": dict(spec.params),
            "status": CommandStatus.pending.value,
            "created_at": now,
        }
        for spec in commands_for_steps(action_types)
    ]
    if not rows:
        return []
    stored = session.connection().execute(_INSERT_COMMANDS, rows)
    return sorted((DeviceCommand(**row._asdict()) for row in stored), key=lambda command: command.id)


def for_incident(*, session: Session, incident_id: str) -> list[DeviceCommand]:
    query = (
        sa.select(DeviceCommand).where(DeviceCommand.incident_id == incident_id).order_by(DeviceCommand.id)
    )
    return list(session.scalars(query))


def stop_for_incident(*, session: Session, incident_id: str) -> list[DeviceCommand]:
    """When an incident closes, stop what its device was told to start (caller's transaction)."""
    issued = for_incident(session=session, incident_id=incident_id)
    if not issued:
        return []
    now = clock.now()
    stops = [
        DeviceCommand(
            engine_key_id=issued[0].engine_key_id,
            incident_id=incident_id,
            type=spec.type,
            params=dict(spec.params),
            status=CommandStatus.pending.value,
            created_at=now,
        )
        for spec in stops_for({c.type for c in issued})
    ]
    session.add_all(stops)
    return stops


def fetch_pending(*, session: Session, engine_key_id: int) -> list[DeviceCommand]:
    """The engine's pending commands, oldest first, marked delivered as they are handed out."""
    pending = list(
        session.scalars(
            sa.select(DeviceCommand)
            .where(
                DeviceCommand.engine_key_id == engine_key_id,
                DeviceCommand.status == CommandStatus.pending.value,
            )
            .order_by(DeviceCommand.id)
            .limit(MAX_FETCH)
        )
    )
    now = clock.now()
    for command in pending:
        command.status, command.delivered_at = CommandStatus.delivered.value, now
    session.commit()
    return pending


def acknowledge(*, session: Session, engine_key_id: int, command_id: int) -> DeviceCommand:
    """The engine carried the command out; another engine's command is not found (no probing)."""
    command = session.get(DeviceCommand, command_id)
    if command is None or command.engine_key_id != engine_key_id:
        raise NotFound("Command not found")
    if command.acknowledged_at is None:
        command.status, command.acknowledged_at = CommandStatus.acknowledged.value, clock.now()
        session.commit()
    return command
