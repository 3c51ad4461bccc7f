"""Under a flood of device writes the server answers the excess 503 with Retry-After at once, and keeps
serving everything else (SOS, the control room)."""

from __future__ import annotations

import asyncio

import anyio.to_thread
import httpx
from fastapi.testclient import TestClient
from starlette.types import Receive, Scope, Send

from safesphere.core.limits import InFlightLimit


class HeldWrites:
    """An app whose device writes wait until released, so a test can hold some in flight."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.started = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["path"] == "/threats/report" and scope["method"] == "POST":
            self.started += 1
            await self.release.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


async def _until(condition: object) -> None:
    for _ in range(200):
        if callable(condition) and condition():
            return
        await asyncio.sleep(0.005)
    raise AssertionError("the held requests never started")


def test_device_writes_past_the_limit_get_503_with_retry_after_and_others_pass() -> None:
    async def scenario() -> None:
        held = HeldWrites()
        app = InFlightLimit(held, limit=2)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            first = [asyncio.create_task(client.post("/threats/report", content=b"{}")) for _ in range(2)]
            await _until(lambda: held.started == 2)

            refused = await client.post("/threats/report", content=b"{}")
            assert refused.status_code == 503
            assert refused.headers["retry-after"] == "1"
            assert "2 device writes in flight" in refused.json()["detail"]
            assert (await client.post("/sos", content=b"{}")).status_code == 200  # never refused for load
            assert (await client.get("/threats/report")).status_code == 200  # only POSTs count

            held.release.set()
            assert [r.status_code for r in await asyncio.gather(*first)] == [200, 200]
            assert (await client.post("/threats/report", content=b"{}")).status_code == 200
            assert app.in_flight.count == 0

    asyncio.run(scenario())


def test_a_limit_of_zero_never_refuses_and_still_counts() -> None:
    """The count is what tells the delivery worker its process is busy, limit or not."""

    async def scenario() -> None:
        held = HeldWrites()
        app = InFlightLimit(held, limit=0)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            pending = [asyncio.create_task(client.post("/threats/report")) for _ in range(20)]
            await _until(lambda: held.started == 20)
            assert app.in_flight.count == 20
            held.release.set()
            answers = await asyncio.gather(*pending)
        assert {a.status_code for a in answers} == {200}
        assert app.in_flight.count == 0

    asyncio.run(scenario())


def test_the_app_applies_the_configured_limit(client: TestClient) -> None:
    """The real app carries the limit from settings (by default a few dozen device writes in flight)."""
    limits = [m for m in client.app.user_middleware if m.cls is InFlightLimit]  # type: ignore[attr-defined]
    assert len(limits) == 1
    assert limits[0].kwargs["limit"] == client.app.state.settings.max_in_flight_device_writes  # type: ignore[attr-defined]
    assert client.app.state.settings.max_in_flight_device_writes > 0  # type: ignore[attr-defined]


def test_routes_run_on_the_configured_number_of_threads(client: TestClient) -> None:
    """Few route threads, so under a flood the event loop still gets the GIL to read (and refuse) requests."""
    portal = client.portal
    assert portal is not None
    tokens = portal.call(lambda: anyio.to_thread.current_default_thread_limiter().total_tokens)
    assert tokens == client.app.state.settings.route_threads == 8  # type: ignore[attr-defined]
