"""Tourists' devices as a delivery channel: Web Push subscriptions and the deliveries made for them.

A device subscribes with the browser's ``PushSubscription`` (endpoint and keys); each message for the
tourist becomes one delivery per device on the built-in ``web-push`` channel, addressed ``push:<id>``, so
it is retried, recorded and shown like every other delivery. A push service that answers 404 or 410 has
dropped the subscription: the worker removes it and fails that delivery at once.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from safesphere.core.config import Settings
from safesphere.core.db import table
from safesphere.core.encryption import FieldCipher, FieldKeyError
from safesphere.core.errors import InvalidInput, NotFound
from safesphere.notify import outbox
from safesphere.notify.models import Audience, ChannelKind, ChannelRole, PushSubscription, WebPushKey
from safesphere.notify.routing import ChannelSpec
from safesphere.notify.webpush import (
    VAPID_KEY_FILE_NAME,
    PushTarget,
    b64url_decode,
    install_key,
    new_private_key_pem,
)

log = logging.getLogger(__name__)

CHANNEL_NAME = "web-push"
ADDRESS_PREFIX = "push:"
P256DH_BYTES = 65
AUTH_BYTES = 16
_S = table(PushSubscription).c
_OF_USERS = sa.select(_S.id, _S.user_id).where(_S.user_id.in_(sa.bindparam("ids", expanding=True)))
_BY_IDS = sa.select(_S.id, _S.endpoint, _S.p256dh, _S.auth).where(
    _S.id.in_(sa.bindparam("ids", expanding=True))
)


def channel(settings: Settings) -> ChannelSpec:
    """The built-in channel: always there, reaching only tourists who subscribed a device."""
    config = {"subject": settings.web_push_subject, "data_dir": str(settings.data_dir)}
    return ChannelSpec(CHANNEL_NAME, ChannelKind.webpush, frozenset({ChannelRole.user}), config,
                       managed_by="built-in")  # fmt: skip


def share_server_key(session: Session, settings: Settings) -> None:
    """Every instance on this database signs Web Push with the same key: the first to start stores its
    key (the data directory's, so an installation that grows keeps its subscriptions; else a new one) in
    the database, encrypted with the field key, and each instance copies the stored key into its data
    directory. Of two first starts at once, one insert wins and both copy the winner.

    A stored key this instance cannot read (another field key) is logged as an error and the data
    directory's key is kept: pushes may then be refused, but reports and SOS are never stopped by it."""
    cipher = FieldCipher.from_settings(settings)
    stored = session.get(WebPushKey, 1)
    if stored is None:
        existing = settings.data_dir / VAPID_KEY_FILE_NAME
        pem = existing.read_bytes() if existing.exists() else new_private_key_pem()
        session.add(WebPushKey(id=1, private_key=cipher.encrypt(pem.decode("ascii"))))
        try:
            session.commit()
        except IntegrityError:
            session.rollback()
        stored = session.get_one(WebPushKey, 1, populate_existing=True)
    try:
        install_key(settings.data_dir, cipher.decrypt(stored.private_key).encode("ascii"))
    except (FieldKeyError, ValueError) as exc:
        log.error("the installation's Web Push key cannot be read, this instance keeps its own: %s", exc)


def _key(text: str, length: int, name: str) -> str:
    try:
        raw = b64url_decode(text)
    except ValueError as exc:
        raise InvalidInput(f"keys.{name} is not base64url") from exc
    if len(raw) != length or (name == "p256dh" and raw[0] != 4):
        raise InvalidInput(
            f"keys.{name} must be {length} bytes"
            + (" (an uncompressed P-256 point)" if name == "p256dh" else "")
        )
    return text


def subscribe(
    *, session: Session, settings: Settings, user_id: int, endpoint: str, p256dh: str, auth: str
) -> PushSubscription:
    """Store the device's subscription for the user (a device that changed hands moves to its new user)."""
    scheme = urlsplit(endpoint).scheme
    if scheme != "https" and not (scheme == "http" and settings.web_push_allow_http):
        raise InvalidInput("endpoint must be an https URL of a push service")
    keys = (_key(p256dh, P256DH_BYTES, "p256dh"), _key(auth, AUTH_BYTES, "auth"))
    row = session.scalar(sa.select(PushSubscription).where(PushSubscription.endpoint == endpoint))
    if row is None:
        row = PushSubscription(endpoint=endpoint)
        session.add(row)
    row.user_id, (row.p256dh, row.auth) = user_id, keys
    session.commit()
    return row


def unsubscribe(*, session: Session, user_id: int, endpoint: str) -> None:
    deleted = session.execute(
        sa.delete(PushSubscription).where(
            PushSubscription.user_id == user_id, PushSubscription.endpoint == endpoint
        )
    )
    if not deleted.rowcount:  # type: ignore[attr-defined]
        raise NotFound("No such push subscription for this account")
    session.commit()


def list_for(*, session: Session, user_id: int) -> list[PushSubscription]:
    return list(session.scalars(sa.select(PushSubscription).where(PushSubscription.user_id == user_id)))


def subscription_ids(addresses: Iterable[str]) -> list[int]:
    """The subscriptions behind ``push:<id>`` addresses (others are not devices)."""
    return [int(a.removeprefix(ADDRESS_PREFIX)) for a in addresses if a.startswith(ADDRESS_PREFIX)]


def targets(*, connection: sa.Connection, addresses: Iterable[str]) -> dict[str, PushTarget]:
    """The devices behind ``push:<id>`` addresses still subscribed (one query)."""
    ids = subscription_ids(addresses)
    if not ids:
        return {}
    return {f"{ADDRESS_PREFIX}{row.id}": PushTarget(row.id, row.endpoint, row.p256dh, row.auth)
            for row in connection.execute(_BY_IDS, {"ids": ids})}  # fmt: skip


def remove(*, connection: sa.Connection, subscription_ids: list[int]) -> None:
    """Subscriptions their push service says are gone."""
    if subscription_ids:
        connection.execute(sa.delete(table(PushSubscription)).where(_S.id.in_(subscription_ids)))


@dataclass(frozen=True)
class Note:
    """A message for one tourist's devices."""

    user_id: int
    title: str
    body: str
    event: str
    key_prefix: str
    source_kind: str
    source_id: str | int
    urgency: str = "normal"
    incident_id: str | None = None


def enqueue(*, session: Session, notes: list[Note]) -> int:
    """One delivery per subscribed device of each note's tourist, in the caller's transaction; one query
    finds the devices, and nothing is written for tourists without one."""
    if not notes:
        return 0
    devices: dict[int, list[int]] = {}
    for subscription_id, user_id in session.connection().execute(
        _OF_USERS, {"ids": list({n.user_id for n in notes})}
    ):
        devices.setdefault(user_id, []).append(subscription_id)
    rows: list[dict[str, Any]] = []
    for note in notes:
        for subscription_id in devices.get(note.user_id, []):
            address = f"{ADDRESS_PREFIX}{subscription_id}"
            key = f"{note.key_prefix}:{CHANNEL_NAME}:{address}"
            payload = {"title": note.title, "body": note.body, "event": note.event, "tag": note.key_prefix,
                       "urgency": note.urgency, "idempotency_key": key}  # fmt: skip
            rows.append({"idempotency_key": key, "channel": CHANNEL_NAME, "kind": ChannelKind.webpush.value,
                         "audience": Audience.user.value, "recipient": address, "subject": note.title,
                         "payload": payload, "source_kind": note.source_kind,
                         "source_id": str(note.source_id), "incident_id": note.incident_id})  # fmt: skip
    return outbox.enqueue_all(session=session, deliveries=rows)
