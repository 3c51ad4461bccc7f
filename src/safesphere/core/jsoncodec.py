"""Compact JSON, fast: orjson, falling back to the standard library for what orjson refuses (integers
beyond 64 bits). Used where JSON is made per request: the database's JSON columns and the telemetry's
size check (issue 17: the telemetry was serialized three times per report with the slower encoder)."""

from __future__ import annotations

import json
from typing import Any

import orjson


def dumps(value: Any) -> bytes:
    """``value`` as compact UTF-8 JSON (non-ASCII kept as is)."""
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS)
    except TypeError:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def dumps_text(value: Any) -> str:
    return dumps(value).decode("utf-8")


def loads(text: str | bytes) -> Any:
    return orjson.loads(text)
