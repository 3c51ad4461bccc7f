"""Threat report bodies shaped like the ``threat_cv`` engine's, and counts of what was stored."""

from __future__ import annotations

import itertools
from typing import Any

import sqlalchemy as sa

from safesphere.core.db import Database
from safesphere.evidence.models import Evidence
from safesphere.incidents.models import Incident, IncidentAction, IncidentAlert

_numbers = itertools.count(1)


def report_body(**overrides: Any) -> dict[str, Any]:
    """A CRITICAL armed-threat report (the document's example) with ``overrides`` applied."""
    body: dict[str, Any] = {
        "incident_id": f"INC_20260210_143045_{next(_numbers):03d}",
        "timestamp": "2026-02-10T14:30:45.123",
        "threat_level": "CRITICAL",
        "threat_score": 0.87,
        "people_count": 2,
        "weapon_detected": True,
        "weapon_types": ["gun"],
        "behavior_summary": "Following + approaching rapidly",
        "is_critical": True,
        "full_telemetry": {
            "motion": {"speed_px_s": 312.5, "direction_deg": 87},
            "detections": [{"label": "person", "box": [10, 20, 110, 220], "confidence": 0.93}],
            "tracks": [{"id": 7, "age_frames": 41}],
            "weapon": {"label": "gun", "confidence": 0.81},
        },
    }
    body.update(overrides)
    return body


def stored_counts(db: Database) -> dict[str, int]:
    """How many incidents, actions, alerts and evidence rows the database holds."""
    with db.read_session() as session:
        return {
            model.__tablename__: session.scalar(sa.select(sa.func.count()).select_from(model)) or 0
            for model in (Incident, IncidentAction, IncidentAlert, Evidence)
        }


NOTHING_STORED = {"incidents": 0, "incident_actions": 0, "incident_alerts": 0, "evidence": 0}
