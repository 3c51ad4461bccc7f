"""The outbox adds each planned delivery once: a key stored already (a retried cause, or another process's
insert of the same cause) keeps its row as it is, and only the rows added are counted."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from safesphere.core.db import Database
from safesphere.notify import outbox
from safesphere.notify.models import Audience, ChannelKind, Delivery, DeliveryStatus


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    """Nothing in the background reads or changes the rows under test."""
    return {"delivery_worker_enabled": False, "rescore_interval_s": 0, "escalation_poll_interval_s": 3600}


def _planned(key: str) -> dict[str, Any]:
    return {
        "idempotency_key": key, "channel": "police-hook", "kind": ChannelKind.webhook.value,
        "audience": Audience.police.value, "recipient": "http://127.0.0.1:9/hook", "subject": f"page {key}",
        "payload": {"key": key}, "source_kind": "incident_alert", "source_id": key, "incident_id": None,
    }  # fmt: skip


def _enqueue(db: Database, keys: list[str]) -> int:
    with db.session() as session:
        added = outbox.enqueue_all(session=session, deliveries=[_planned(key) for key in keys])
        session.commit()
    return added


def test_a_key_stored_already_keeps_its_row_and_only_new_rows_are_counted(db: Database) -> None:
    assert _enqueue(db, ["a", "b"]) == 2
    with db.session() as session:
        sent = sa.update(Delivery).where(Delivery.idempotency_key == "a")
        session.execute(sent.values(status=DeliveryStatus.sent.value, attempts=1, payload={"key": "sent"}))
        session.commit()

    assert _enqueue(db, ["a", "b", "c", "c"]) == 1, "only c is new, and once"
    assert _enqueue(db, ["a", "b", "c"]) == 0
    assert _enqueue(db, []) == 0

    with db.read_session() as session:
        rows = session.execute(
            sa.select(Delivery.idempotency_key, Delivery.status, Delivery.attempts, Delivery.payload)
        ).all()
    by_key = {key: (status, attempts, payload) for key, status, attempts, payload in rows}
    assert sorted(key for key, *_ in rows) == ["a", "b", "c"]
    assert by_key["a"] == (DeliveryStatus.sent.value, 1, {"key": "sent"}), "the stored row is left alone"
    assert by_key["c"] == (DeliveryStatus.pending.value, 0, {"key": "c"})
