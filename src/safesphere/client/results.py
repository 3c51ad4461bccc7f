"""What a call to the SDK tells its caller: delivered, spooled for retry, or rejected by the server."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Outcome(StrEnum):
    delivered = "delivered"
    """The server answered 2xx: the incident (or screenshot) is stored."""
    spooled = "spooled"
    """The server was unreachable or failed (5xx): kept in the local spool, retried in the background."""
    rejected = "rejected"
    """The server refused it (4xx): it will not be retried; ``detail`` says why."""


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    incident_id: str
    status_code: int | None = None
    response: dict[str, Any] | None = None
    detail: Any = None

    @property
    def delivered(self) -> bool:
        return self.outcome is Outcome.delivered

    @property
    def spooled(self) -> bool:
        return self.outcome is Outcome.spooled

    @property
    def rejected(self) -> bool:
        return self.outcome is Outcome.rejected

    @property
    def accepted(self) -> bool:
        """Stored on the server, or safe in the spool and on its way there."""
        return self.outcome is not Outcome.rejected


@dataclass(frozen=True)
class Health:
    healthy: bool
    status_code: int | None
    response: dict[str, Any] | None = None
    detail: str | None = None


@dataclass(frozen=True)
class Rejection:
    """A spooled request the server later refused (4xx); kept so it is never silently lost."""

    kind: str
    incident_id: str
    status_code: int
    detail: str
    rejected_at: float
