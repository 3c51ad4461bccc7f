"""Which protocol steps are instructions to the reporting device, and what stops them. Pure."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class CommandSpec:
    type: str
    params: dict[str, Any] = field(default_factory=dict)


STEP_COMMANDS: dict[str, CommandSpec] = {
    "start_recording": CommandSpec("start_recording", {"mode": "standard"}),
    "continuous_recording_360": CommandSpec("start_recording", {"mode": "continuous_360"}),
    "voice_alerts": CommandSpec(
        "voice_alert", {"message": "Police have been alerted. You are being recorded."}
    ),
    "share_live_location": CommandSpec("stream_location", {"interval_s": 10}),
    "live_location_streaming": CommandSpec("stream_location", {"interval_s": 5}),
}
"""Protocol action type -> the device command it becomes (steps not listed happen on the server)."""

STOP_COMMANDS: dict[str, CommandSpec] = {
    "start_recording": CommandSpec("stop_recording"),
    "stream_location": CommandSpec("stop_streaming"),
}
"""When the incident is closed, each running command's stop."""


def commands_for_steps(action_types: list[str]) -> list[CommandSpec]:
    """The device commands of a protocol run, in step order, each command type once (the strongest
    recording mode and the shortest streaming interval win, as they come later in the table)."""
    chosen: dict[str, CommandSpec] = {}
    for action_type in action_types:
        spec = STEP_COMMANDS.get(action_type)
        if spec is not None:
            chosen[spec.type] = spec
    return list(chosen.values())


def stops_for(started_types: set[str]) -> list[CommandSpec]:
    return [STOP_COMMANDS[t] for t in sorted(started_types) if t in STOP_COMMANDS]
