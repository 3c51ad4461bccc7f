"""Incident identifiers: the safe alphabet of an engine's id, and the id made for a report without one."""

from __future__ import annotations

import re
import secrets
from datetime import datetime

INCIDENT_ID_MAX_LENGTH = 64
"""Long enough for every engine's scheme seen so far, short enough for an index and a file name."""

INCIDENT_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
"""Letters, digits, ``_``, ``.``, ``-``, not starting with a dot: ids end up in URLs and file names."""

_INCIDENT_ID = re.compile(INCIDENT_ID_PATTERN)


def is_valid_incident_id(value: str) -> bool:
    """Whether ``value`` is a safe incident id (no path separators, no ``..``)."""
    return bool(_INCIDENT_ID.fullmatch(value)) and ".." not in value


def new_incident_id(at: datetime) -> str:
    """``INC_YYYYMMDD_HHMMSS_mmm_xxxx`` for the UTC time ``at``; four random hex digits tell apart
    reports made in the same millisecond."""
    return f"INC_{at:%Y%m%d_%H%M%S}_{at.microsecond // 1000:03d}_{secrets.token_hex(2)}"
