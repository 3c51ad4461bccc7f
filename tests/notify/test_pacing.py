"""A busy delivery worker rests between rounds in proportion to their own database work, so a stream of
reports goes out in rounds that send many; an idle one sends at once."""

from __future__ import annotations

import asyncio

import pytest
from fastapi.testclient import TestClient

from safesphere.auth.admission import DeviceAdmission
from safesphere.core.config import Settings
from safesphere.core.db import Database
from safesphere.notify.worker import ROUND_DUTY, DeliveryWorker, rest_between_rounds


def test_the_rest_keeps_the_worker_to_its_share_of_the_time() -> None:
    work = 0.004  # a round's two transactions
    rest = rest_between_rounds(work, longest_s=1.0)
    assert work / (work + rest) == pytest.approx(ROUND_DUTY)


def test_the_rest_never_exceeds_the_setting() -> None:
    assert rest_between_rounds(0.5, longest_s=0.025) == 0.025  # a slow round (a stalled database)


def test_no_work_means_no_rest() -> None:
    assert rest_between_rounds(0.0, longest_s=0.025) == 0.0


def _resting_worker(db: Database, settings: Settings, *, busy: bool) -> DeliveryWorker:
    """A worker just after a round whose database work took 30 s, allowed a 60 s rest."""
    patient = settings.model_copy(update={"delivery_round_interval_s": 60.0})
    worker = DeliveryWorker(db, patient, busy=lambda: busy)
    worker._round_work_s = 30.0
    worker._round_ended = asyncio.get_running_loop().time()
    return worker


def test_a_busy_process_worker_rests_and_an_idle_one_sends_at_once(db: Database, settings: Settings) -> None:
    async def scenario() -> None:
        idle = _resting_worker(db, settings, busy=False)
        await asyncio.wait_for(idle._pace(), timeout=10)  # no rest at all
        busy = _resting_worker(db, settings, busy=True)
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(busy._pace(), timeout=0.2)  # resting for a minute

    asyncio.run(scenario())


def test_the_server_worker_counts_a_process_busy_while_device_writes_wait(client: TestClient) -> None:
    """The server's worker reads the admission's own in-flight count."""
    in_flight = client.app.state.device_writes  # type: ignore[attr-defined]
    limits = [m for m in client.app.user_middleware if m.cls is DeviceAdmission]  # type: ignore[attr-defined]
    assert limits[0].kwargs["in_flight"] is in_flight
