"""The rules of fair admission, in process: who may take a device-write slot, each client's share, the
429 and 503 answers, and the body limits (the attacks themselves: tests/core/test_admission.py)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import anyio.to_thread
import httpx
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from starlette.types import Receive, Scope, Send

from safesphere.auth import service as auth_service
from safesphere.core import clock
from safesphere.core.db import Database
from safesphere.core.limits import BodyLimits, FairShares, InFlight, RateLimits
from safesphere.incidents.models import Incident
from tests.factories import Factory
from tests.incidents.reports import report_body
from tests.support.writer import held
from tests.tracking.fixtures import fix_body

SOS_AT = {"lat": 41.39, "lon": 2.17}


def test_each_client_has_its_own_share_and_a_quiet_one_is_admitted_past_the_total() -> None:
    in_flight = InFlight()
    shares = FairShares(per_client=2, total=3, in_flight=in_flight)
    assert shares.admit("flood") is None
    assert shares.admit("flood") is None
    own = shares.admit("flood")
    assert own is not None and own.status == 429 and own.retry_after_s == 1
    assert shares.admit("other") is None  # total 3 reached
    busy = shares.admit("other")
    assert busy is not None and busy.status == 503
    # A client with nothing in flight still gets one slot, up to twice the total.
    assert shares.admit("quiet") is None
    assert shares.admit("quiet-2") is None
    assert shares.admit("quiet-3") is None
    assert shares.admit("quiet-4") is not None
    assert in_flight.count == 6
    for client in ("flood", "flood", "other", "quiet", "quiet-2", "quiet-3"):
        shares.release(client)
    assert in_flight.count == 0
    assert shares.admit("flood") is None


def test_a_client_over_its_rate_gets_429_with_the_wait_and_its_bucket_refills() -> None:
    now = [100.0]
    rates = RateLimits(rate_per_s=2.0, burst=3, monotonic=lambda: now[0])
    assert [rates.take("cam") for _ in range(3)] == [None, None, None]
    refused = rates.take("cam")
    assert refused is not None and refused.status == 429 and refused.retry_after_s == 1
    assert rates.take("other") is None  # buckets are per client
    now[0] += 0.5  # one token back at 2 per second
    assert rates.take("cam") is None
    assert rates.take("cam") is not None
    assert RateLimits(rate_per_s=0, burst=1).take("cam") is None  # 0 = no limit


def test_a_body_that_does_not_arrive_in_time_is_a_408_that_closes_the_connection() -> None:
    async def reads_its_body(scope: Scope, receive: Receive, send: Send) -> None:
        while (await receive()).get("more_body"):
            pass
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    async def trickle() -> AsyncIterator[bytes]:
        yield b"{"
        await asyncio.sleep(1)
        yield b"}"

    async def scenario() -> None:
        app = BodyLimits(reads_its_body, max_bytes=100, timeout_s=0.2)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            late = await client.post("/threats/report", content=trickle())
            assert late.status_code == 408
            assert late.headers["connection"] == "close"
            assert "not received within 0.2 s" in late.json()["detail"]
            assert (await client.post("/threats/report", content=b"{}")).status_code == 200
            assert (await client.post("/x", content=b"x" * 101)).status_code == 413

    asyncio.run(scenario())


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"device_writes_per_s": 1.0, "device_write_burst": 2}


def test_a_device_write_without_valid_credentials_is_401_and_takes_no_slot(
    client: TestClient, factory: Factory
) -> None:
    for headers in ({}, {"X-API-Key": "ssk_bogus"}, {"Authorization": "Bearer not-a-token"}):
        refused = client.post("/threats/report", json=report_body(), headers=headers)
        assert refused.status_code == 401, refused.text
        assert refused.headers["connection"] == "close"
    assert client.app.state.device_writes.count == 0  # type: ignore[attr-defined]
    tourist = factory.tourist()
    assert (
        client.post("/location/update", json=fix_body(clock.now()), headers=tourist.headers).status_code
        == 200
    )


def test_a_key_over_its_rate_gets_429_others_and_sos_do_not(client: TestClient, factory: Factory) -> None:
    flooding, other = factory.engine_key(), factory.engine_key()
    codes = [
        client.post("/threats/report", json=report_body(), headers=flooding.headers).status_code
        for _ in range(3)
    ]
    assert codes == [200, 200, 429]
    refused = client.post("/threats/report", json=report_body(), headers=flooding.headers)
    assert refused.status_code == 429 and refused.headers["retry-after"] == "1"
    assert "per second" in refused.json()["detail"]
    assert client.post("/threats/report", json=report_body(), headers=other.headers).status_code == 200
    tourist = factory.tourist()
    for _ in range(4):  # SOS is never refused for load
        assert client.post("/sos", json=SOS_AT, headers=tourist.headers).status_code == 201


def test_a_key_revoked_after_admission_remembered_it_is_refused(client: TestClient, factory: Factory) -> None:
    """Admission remembers a live key for a while; the route's own check still sees the revocation."""
    engine = factory.engine_key()
    assert client.post("/threats/report", json=report_body(), headers=engine.headers).status_code == 200
    admin = factory.admin()
    assert client.delete(f"/admin/keys/{engine.name}", headers=admin.headers).status_code == 200
    assert client.post("/threats/report", json=report_body(), headers=engine.headers).status_code == 401
    assert client.post("/threats/report", json=report_body(), headers=engine.headers).status_code == 401


def test_a_key_revoked_by_another_process_is_refused_though_admission_remembers_it(
    client: TestClient, factory: Factory, db: Database
) -> None:
    """Admission's memory of a key is not asked again by the route: the report's unit of work re-reads the
    key in its transaction. Revoked here as ``safesphere keys revoke`` would, from another process."""
    engine = factory.engine_key()
    assert client.post("/threats/report", json=report_body(), headers=engine.headers).status_code == 200
    with db.session() as session:
        auth_service.revoke_engine_key(session=session, name=engine.name)
        session.commit()
    body = report_body()
    assert client.post("/threats/report", json=body, headers=engine.headers).status_code == 401
    with db.read_session() as session:
        stored = session.scalar(sa.select(sa.func.count()).where(Incident.incident_id == body["incident_id"]))
    assert stored == 0


def test_routes_run_on_the_configured_number_of_threads(client: TestClient) -> None:
    """Few route threads, so under a flood the event loop still gets the GIL to read (and refuse) requests."""
    portal = client.portal
    assert portal is not None
    tokens = portal.call(lambda: anyio.to_thread.current_default_thread_limiter().total_tokens)
    assert tokens == client.app.state.settings.route_threads == 8  # type: ignore[attr-defined]


def _at_once(client: TestClient, requests: list[tuple[str, dict[str, str]]]) -> list[httpx.Response]:
    """The reports, each with its headers, sent together on the app's own event loop: every one reaches
    admission before any key lookup (a thread) can come back."""

    async def burst() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=client.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as sender:
            return list(
                await asyncio.gather(
                    *(sender.post(path, json=report_body(), headers=headers) for path, headers in requests)
                )
            )

    assert client.portal is not None
    return client.portal.call(burst)


@pytest.mark.parametrize(
    "settings_overrides",
    [{"device_writes_in_flight_per_client": 0, "device_writes_per_s": 0, "unverified_key_checks": 1}],
)
def test_a_burst_with_a_key_not_checked_yet_waits_for_its_one_check(
    client: TestClient, factory: Factory
) -> None:
    """Cameras reconnecting after a restart find the key cache cold: a burst from one key costs one
    lookup and is answered, where each request used to take a check slot of its own (503 past the pool).
    Keys not known yet still share the pool: three new keys at once with one slot, two are told to retry."""
    camera = factory.engine_key()
    answers = _at_once(client, [("/threats/report", camera.headers)] * 12)
    assert [a.status_code for a in answers] == [200] * 12, [a.text for a in answers]
    others = [factory.engine_key() for _ in range(3)]
    answers = _at_once(client, [("/threats/report", key.headers) for key in others])
    assert sorted(a.status_code for a in answers) == [200, 503, 503]
    busy = [a.json()["detail"] for a in answers if a.status_code == 503]
    assert busy == ["Busy checking unknown keys; retry"] * 2


BACKLOG = 20
"""More device writes than the route threads (8), fewer than ``writer_max_batch`` (64)."""


@pytest.mark.parametrize(
    "settings_overrides", [{"device_writes_in_flight_per_client": 0, "device_writes_per_s": 0}]
)
def test_a_backlog_of_device_writes_waits_for_the_writer_as_one_batch(
    client: TestClient, factory: Factory
) -> None:
    """Past its rate, a backlog is absorbed by larger batches: every admitted device write waiting reaches
    the writer, up to ``writer_max_batch``, and is committed with the others in one transaction. The lane
    in front of the writer used to be sized from the route threads: at most 6 waited, batches stayed at 6,
    each report kept paying its own share of a commit and a backlog past ~150 reports/s never shrank."""
    camera = factory.engine_key()
    assert client.post("/threats/report", json=report_body(), headers=camera.headers).status_code == 200
    writer = client.app.state.writer  # type: ignore[attr-defined]
    assert client.app.state.settings.writer_max_batch > BACKLOG  # type: ignore[attr-defined]

    async def backlog() -> tuple[int, list[httpx.Response]]:
        transport = httpx.ASGITransport(app=client.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as sender:
            with held(writer):
                sending = [
                    asyncio.ensure_future(
                        sender.post("/threats/report", json=report_body(), headers=camera.headers)
                    )
                    for _ in range(BACKLOG)
                ]
                deadline = time.monotonic() + 5.0
                while writer.waiting < BACKLOG and time.monotonic() < deadline:
                    await asyncio.sleep(0.01)
                waiting = writer.waiting
            return waiting, list(await asyncio.gather(*sending))

    assert client.portal is not None
    waiting, answers = client.portal.call(backlog)
    assert waiting >= BACKLOG, "every admitted report waits for the writer, not in front of it"
    assert [a.status_code for a in answers] == [200] * BACKLOG, [a.text for a in answers]
