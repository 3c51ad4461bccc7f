"""The reporting engine fetches and acknowledges its commands with its own engine key."""

from __future__ import annotations

from fastapi import APIRouter

from safesphere.auth.access import EngineKeyAuth
from safesphere.core.dependencies import DbSession
from safesphere.core.errors import responses
from safesphere.core.params import PathId
from safesphere.devices import service
from safesphere.devices.schemas import CommandListOut, CommandOut

router = APIRouter(prefix="/devices", tags=["devices"], responses=responses(401, 403))


@router.get("/commands", response_model=CommandListOut)
def pending_commands(session: DbSession, engine: EngineKeyAuth) -> CommandListOut:
    """This engine's pending commands (recording, voice alerts, location streaming and their stops)."""
    commands = [
        CommandOut.from_command(c)
        for c in service.fetch_pending(session=session, engine_key_id=engine.key_id)
    ]
    return CommandListOut(count=len(commands), commands=commands)


@router.post(
    "/commands/{command_id}/ack", response_model=CommandOut, responses=responses(n404="Command not found")
)
def acknowledge_command(command_id: PathId, session: DbSession, engine: EngineKeyAuth) -> CommandOut:
    return CommandOut.from_command(
        service.acknowledge(session=session, engine_key_id=engine.key_id, command_id=command_id)
    )
