"""Errors the SDK raises where a call cannot return a result (the tourist client, bad arguments)."""

from __future__ import annotations

from typing import Any


class ClientError(Exception):
    """Base of every SDK error."""


class ServerUnreachable(ClientError):
    """No HTTP answer: connection refused, reset, or timed out."""


class ApiError(ClientError):
    """The server answered with an error status; ``detail`` is its ``detail`` field (or the body)."""

    def __init__(self, status_code: int, detail: Any) -> None:
        super().__init__(f"HTTP {status_code}: {detail}")
        self.status_code = status_code
        self.detail = detail
