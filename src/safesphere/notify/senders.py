"""Sending one message through one channel: webhook, e-mail, SMS gateway, or the log."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import smtplib
import time
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx

from safesphere.notify import webpush
from safesphere.notify.models import ChannelKind
from safesphere.notify.routing import ChannelSpec
from safesphere.notify.webpush import PushTarget, vapid_key

log = logging.getLogger(__name__)

WEBHOOK_SECRET_PREFIX = "whsec_"  # noqa: S105 - the scheme's prefix, not a secret
ERROR_TEXT_LIMIT = 500
"""Enough of a receiver's error body to diagnose it; the rest is noise in the attempts table."""


@dataclass(frozen=True)
class Message:
    """What is sent: the delivery's stable key, its address, and its content."""

    idempotency_key: str
    address: str
    subject: str
    payload: dict[str, Any]

    @property
    def summary(self) -> str:
        return str(self.payload.get("message") or self.subject)

    @property
    def text(self) -> str:
        """What a person reads; with the live-location link when there is one."""
        link = self.payload.get("share_url")
        return f"{self.summary}\nLive location: {link}" if link else self.summary


@dataclass(frozen=True)
class SendResult:
    ok: bool
    status_code: int | None = None
    error: str | None = None
    gone: bool = False
    """The address no longer exists (a push service's 404/410): failed at once, never retried."""


def webhook_key(secret: str) -> bytes:
    """The HMAC key of a Standard Webhooks secret (``whsec_`` + base64), or a plain secret's bytes."""
    if secret.startswith(WEBHOOK_SECRET_PREFIX):
        return base64.b64decode(secret.removeprefix(WEBHOOK_SECRET_PREFIX))
    return secret.encode("utf-8")


def webhook_signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """``v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`` (the Standard Webhooks scheme)."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(webhook_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def _http_result(response: httpx.Response) -> SendResult:
    if response.is_success:
        return SendResult(ok=True, status_code=response.status_code)
    return SendResult(
        ok=False,
        status_code=response.status_code,
        error=f"HTTP {response.status_code}: {response.text[:200]}",
    )


async def _webhook(
    client: httpx.AsyncClient, channel: ChannelSpec, message: Message, timeout: float
) -> SendResult:
    body = json.dumps(message.payload, separators=(",", ":"), sort_keys=True).encode("utf-8")
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "webhook-id": message.idempotency_key,
        "webhook-timestamp": str(timestamp),
        "Idempotency-Key": message.idempotency_key,
    }
    if channel.secret:
        headers["webhook-signature"] = webhook_signature(
            channel.secret, message.idempotency_key, timestamp, body
        )
    response = await client.post(message.address, content=body, headers=headers, timeout=timeout)
    return _http_result(response)


async def _sms(
    client: httpx.AsyncClient, channel: ChannelSpec, message: Message, timeout: float
) -> SendResult:
    config = channel.config
    fields: dict[str, Any] = {
        **dict(config.get("extra") or {}),
        str(config.get("to_field") or "to"): message.address,
        str(config.get("message_field") or "message"): message.text,
    }
    auth = config.get("auth") or (
        "basic" if config.get("username") else "bearer" if channel.secret else "none"
    )
    headers = {"Idempotency-Key": message.idempotency_key}
    basic: httpx.Auth = httpx.Auth()  # no authentication
    if auth == "basic":
        basic = httpx.BasicAuth(str(config.get("username") or ""), channel.secret or "")
    elif auth == "bearer" and channel.secret:
        headers["Authorization"] = f"Bearer {channel.secret}"
    url = str(config["url"])
    if config.get("format") == "form":
        response = await client.post(url, data=fields, headers=headers, auth=basic, timeout=timeout)
    else:
        response = await client.post(url, json=fields, headers=headers, auth=basic, timeout=timeout)
    return _http_result(response)


def _email_blocking(channel: ChannelSpec, message: Message, timeout: float) -> SendResult:
    config = channel.config
    email = EmailMessage()
    email["From"] = str(config.get("from") or "safesphere@localhost")
    email["To"] = message.address
    email["Subject"] = message.subject
    domain = email["From"].rsplit("@", 1)[-1].strip("> ")
    email["Message-ID"] = f"<{message.idempotency_key.replace(':', '.')}@{domain}>"
    email.set_content(message.text)
    with smtplib.SMTP(str(config["host"]), int(config.get("port") or 25), timeout=timeout) as smtp:
        if config.get("starttls"):
            smtp.starttls()
        if config.get("username"):
            smtp.login(str(config["username"]), channel.secret or "")
        smtp.send_message(email)
    return SendResult(ok=True)


async def _webpush(
    client: httpx.AsyncClient,
    channel: ChannelSpec,
    message: Message,
    target: PushTarget | None,
    timeout: float,
) -> SendResult:
    if target is None:
        return SendResult(ok=False, error="the device unsubscribed", gone=True)
    payload: dict[str, Any] = {
        k: message.payload[k] for k in ("title", "body", "event", "tag") if k in message.payload
    }
    key = vapid_key(Path(str(channel.config["data_dir"])))
    response = await webpush.push(
        client, target, payload, key=key, subject=str(channel.config["subject"]),
        urgency=str(message.payload.get("urgency") or "normal"), timeout=timeout,
    )  # fmt: skip
    if response.status_code in webpush.GONE_STATUSES:
        return SendResult(
            False, response.status_code, f"HTTP {response.status_code}: subscription gone", gone=True
        )
    return _http_result(response)


async def send(
    client: httpx.AsyncClient,
    channel: ChannelSpec,
    message: Message,
    timeout: float,
    push_target: PushTarget | None = None,
) -> SendResult:
    """One attempt; every failure (network, timeout, refusal, non-2xx) is a result, never an exception.
    A Web Push message goes to ``push_target``, the device behind its ``push:<id>`` address."""
    try:
        if channel.kind is ChannelKind.webpush:
            return await _webpush(client, channel, message, push_target, timeout)
        if channel.kind is ChannelKind.webhook:
            return await _webhook(client, channel, message, timeout)
        if channel.kind is ChannelKind.sms:
            return await _sms(client, channel, message, timeout)
        if channel.kind is ChannelKind.email:
            return await asyncio.to_thread(_email_blocking, channel, message, timeout)
        log.info(
            "delivery to %s: %s",
            message.address,
            message.summary,  # never the share link: logs are not for live-location tokens
            extra={
                "idempotency_key": message.idempotency_key,
                "incident_id": message.payload.get("incident_id"),
            },
        )
        return SendResult(ok=True)
    except (httpx.HTTPError, OSError, smtplib.SMTPException, ValueError) as exc:
        return SendResult(ok=False, error=f"{type(exc).__name__}: {exc}"[:ERROR_TEXT_LIMIT])
