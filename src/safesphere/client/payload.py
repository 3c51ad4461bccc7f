"""What the SDK sends: an engine's incident dict made JSON-safe, with an ``incident_id`` fixed up front."""

from __future__ import annotations

import json
import math
import secrets
from collections.abc import Mapping
from datetime import UTC, date, datetime
from enum import Enum
from pathlib import PurePath
from typing import Any

INCIDENT_ID_SUFFIX_BYTES = 2
"""Four hex digits after the millisecond: two engines reporting in the same millisecond still differ."""


def new_incident_id(at: datetime | None = None) -> str:
    """An id in the engine's format ``INC_YYYYMMDD_HHMMSS_mmm_xxxx`` (UTC)."""
    moment = (at or datetime.now(UTC)).astimezone(UTC)
    millis = moment.microsecond // 1000
    return f"INC_{moment:%Y%m%d_%H%M%S}_{millis:03d}_{secrets.token_hex(INCIDENT_ID_SUFFIX_BYTES)}"


def json_safe(value: Any) -> Any:
    """``value`` as plain JSON types: numpy scalars/arrays, datetimes, enums and tuples converted.

    A non-finite float (NaN, inf) becomes ``null``: JSON cannot carry it, and one bad telemetry number
    must not cost the incident.
    """
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(key): json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [json_safe(item) for item in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return json_safe(value.value)
    if isinstance(value, PurePath):
        return str(value)
    if hasattr(value, "tolist"):  # numpy arrays and scalars, without importing numpy
        return json_safe(value.tolist())
    if hasattr(value, "item"):
        return json_safe(value.item())
    raise TypeError(f"cannot send a {type(value).__name__} as JSON")


def prepare_incident(incident: Mapping[str, Any]) -> tuple[str, bytes]:
    """The incident's id and the exact JSON bytes every attempt will send.

    A missing ``incident_id`` or ``timestamp`` is filled in now, before the first attempt, and the bytes
    never change afterwards: a retry is the same request, which the server stores once, and an incident
    delivered from the spool an hour later still says when it was seen.
    """
    if not isinstance(incident, Mapping):
        raise TypeError(f"an incident is a dict, not a {type(incident).__name__}")
    body = json_safe(incident)
    now = datetime.now(UTC)
    if body.get("timestamp") is None:
        body["timestamp"] = now.isoformat()
    incident_id = body.get("incident_id")
    if not incident_id:
        incident_id = new_incident_id(now)
        body["incident_id"] = incident_id
    elif not isinstance(incident_id, str):
        raise TypeError("incident_id must be a string")
    encoded = json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()
    return incident_id, encoded
