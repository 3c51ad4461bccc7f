"""Logging set-up: plain text by default, one JSON object per line when configured."""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Callable
from typing import Any

from safesphere.core.config import Settings

_STANDARD_ATTRS = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """Formats a record as JSON, keeping the ``extra=`` context (incident_id, tourist_id, ...)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self.formatTime(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update({k: v for k, v in record.__dict__.items() if k not in _STANDARD_ATTRS})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


SECRETS = (
    (re.compile(r"/share/[^/?#\s\"']+"), "/share/***"),  # a victim's live location
    (re.compile(r"ssk_[A-Za-z0-9_-]+"), "ssk_***"),  # an engine key, wherever it appears
    (re.compile(r"\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+"), r"\1 ***"),
    (re.compile(r"([?&](?:token|key|api_key|access_token|secret|password)=)[^&\s\"']*", re.I), r"\1***"),
)
"""What never reaches a log line: share tokens, engine keys, credentials in headers or query strings."""


def redact(text: str) -> str:
    for pattern, replacement in SECRETS:
        text = pattern.sub(replacement, text)
    return text


class RedactSecrets(logging.Filter):
    """Redacts a record's arguments in place (uvicorn's access formatter unpacks them: the path is one),
    then the whole message when a secret still shows (``"/share/%s", token``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact(arg) if isinstance(arg, str) else arg for arg in record.args)
        message = record.getMessage()
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


REDACTED_LOGGERS = ("uvicorn.access", "uvicorn.error")
"""uvicorn's own loggers: the access log writes every request path, share links included."""


def _install_redaction() -> None:
    for name in REDACTED_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactSecrets) for f in logger.filters):
            logger.addFilter(RedactSecrets())


class Sampler:
    """Lets at most ``per_s`` events a second through (0: every one) and counts the rest, so a line
    logged per request stays readable, and cheap, at thousands a second: each line let through says how
    many were left out since the last one."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._second = 0
        self._taken = 0
        self._skipped = 0

    def take(self, per_s: int) -> int | None:
        """None: leave this event out; otherwise how many were left out before it."""
        if per_s <= 0:
            return 0
        second = int(self._clock())
        with self._lock:
            if second != self._second:
                self._second, self._taken = second, 0
            if self._taken >= per_s:
                self._skipped += 1
                return None
            self._taken += 1
            skipped, self._skipped = self._skipped, 0
            return skipped


def configure_logging(settings: Settings) -> None:
    _install_redaction()
    handler = logging.StreamHandler()
    handler.addFilter(RedactSecrets())  # every record of ours, whichever module logged it
    if settings.log_json:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("safesphere")
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level.upper())
    root.propagate = False
