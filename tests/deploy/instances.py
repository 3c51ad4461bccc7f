"""Two live instances on the test's PostgreSQL database: their environment, and reports fired at them."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from tests.notify.conftest import POLICE_SECRET
from tests.support.receivers import HttpReceiver


def instance_env(police: HttpReceiver, **settings: object) -> dict[str, str]:
    """Sending to ``police``, and ``settings`` (Settings field names) as the instances' environment."""
    env = {
        "SAFESPHERE_DELIVERY_WORKER_ENABLED": "true",
        "SAFESPHERE_POLICE_WEBHOOK_URL": f"{police.url}/dispatch",
        "SAFESPHERE_POLICE_WEBHOOK_SECRET": POLICE_SECRET,
    }
    env.update({f"SAFESPHERE_{name.upper()}": str(value) for name, value in settings.items()})
    return env


Answer = int | str
"""A status code, or the name of the transport error a request met (its instance was killed)."""


async def post_reports(
    plan: list[tuple[str, dict[str, Any]]],
    headers: dict[str, str],
    *,
    concurrency: int,
    answered: Callable[[int], Awaitable[None]] | None = None,
) -> list[Answer]:
    """POSTs each ``(instance url, report body)`` of ``plan``, ``concurrency`` at a time, in plan order;
    ``answered(count)`` is awaited after each answer."""
    limit = asyncio.Semaphore(concurrency)
    count = 0
    # Idle connections are dropped before the server's keep-alive timeout (5 s) would close them under a
    # request being sent: a client's race, not the server's answer.
    limits = httpx.Limits(max_connections=concurrency, keepalive_expiry=1.0)
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:

        async def one(url: str, body: dict[str, Any]) -> Answer:
            nonlocal count
            async with limit:
                try:
                    response = await client.post(f"{url}/threats/report", json=body, headers=headers)
                    answer: Answer = response.status_code
                except httpx.TransportError as exc:
                    answer = type(exc).__name__
            count += 1
            if answered is not None:
                await answered(count)
            return answer

        return list(await asyncio.gather(*(one(url, body) for url, body in plan)))
