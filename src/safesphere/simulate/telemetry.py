"""Threat reports shaped as the ``threat_cv`` engine builds them, from a seeded random generator.

A report carries the document's top-level fields plus ``full_telemetry``: frame motion, person
detection boxes, tracks with velocity and trajectory, pair interactions (following, closing in), weapon
detections and the engine's threat assessment. The numbers are consistent with each other: a CRITICAL
report has a high score, several people, people closing in, and often a weapon.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime
from typing import Any

THREAT_LEVELS = ("LOW", "MEDIUM", "HIGH", "CRITICAL")

SCORE_BANDS: dict[str, tuple[float, float]] = {
    "LOW": (0.05, 0.30),
    "MEDIUM": (0.30, 0.55),
    "HIGH": (0.55, 0.80),
    "CRITICAL": (0.80, 0.99),
}
"""threat_cv's score thresholds between levels."""

PEOPLE_RANGE: dict[str, tuple[int, int]] = {
    "LOW": (1, 3),
    "MEDIUM": (2, 4),
    "HIGH": (2, 6),
    "CRITICAL": (2, 8),
}
WEAPON_PROBABILITY: dict[str, float] = {"LOW": 0.0, "MEDIUM": 0.02, "HIGH": 0.25, "CRITICAL": 0.6}
"""How often a report of each level carries a weapon detection; most CRITICAL reports are armed."""

WEAPON_CLASSES = ("knife", "gun", "bat", "bottle")
FRAME_SIZE = (1280, 720)
ENGINE_FPS = 30.0
TRAJECTORY_POINTS = 8
"""threat_cv keeps the last eight centroids of each track."""

BEHAVIOURS: dict[str, tuple[str, ...]] = {
    "LOW": ("Normal pedestrian movement", "Person loitering briefly", "Group walking together"),
    "MEDIUM": ("Person loitering near subject", "Repeated approach and retreat", "Erratic movement"),
    "HIGH": ("Following + approaching", "Subject surrounded by group", "Sudden running toward subject"),
    "CRITICAL": ("Following + approaching rapidly", "Physical altercation", "Subject cornered"),
}


@dataclass(frozen=True)
class Track:
    track_id: int
    bbox: tuple[int, int, int, int]
    velocity: tuple[float, float]
    trajectory: list[tuple[int, int]]


def _track(rng: random.Random, track_id: int, speed_scale: float) -> Track:
    width, height = FRAME_SIZE
    box_w, box_h = rng.randint(50, 140), rng.randint(150, 380)
    x1, y1 = rng.randint(0, width - box_w), rng.randint(0, height - box_h)
    vx, vy = rng.gauss(0, 40 * speed_scale), rng.gauss(0, 15 * speed_scale)
    cx, cy = x1 + box_w // 2, y1 + box_h // 2
    trail = [
        (int(cx - vx * k / ENGINE_FPS * 4), int(cy - vy * k / ENGINE_FPS * 4))
        for k in range(TRAJECTORY_POINTS)
    ]
    return Track(track_id, (x1, y1, x1 + box_w, y1 + box_h), (round(vx, 1), round(vy, 1)), trail[::-1])


def _centre(track: Track) -> tuple[float, float]:
    x1, y1, x2, y2 = track.bbox
    return (x1 + x2) / 2, (y1 + y2) / 2


def _pair_interactions(rng: random.Random, tracks: list[Track], level: str) -> list[dict[str, Any]]:
    threatening = THREAT_LEVELS.index(level) >= 2
    pairs = []
    for index, first in enumerate(tracks):
        for second in tracks[index + 1 :]:
            (ax, ay), (bx, by) = _centre(first), _centre(second)
            distance = ((ax - bx) ** 2 + (ay - by) ** 2) ** 0.5
            following = threatening and rng.random() < 0.6
            pairs.append(
                {
                    "track_a": first.track_id,
                    "track_b": second.track_id,
                    "distance_px": round(distance, 1),
                    "closing_speed_px_s": round(
                        rng.uniform(20, 160) if following else rng.uniform(-30, 30), 1
                    ),
                    "following": following,
                    "duration_s": round(rng.uniform(2, 40), 1),
                }
            )
    return pairs


def _weapons(rng: random.Random, level: str, tracks: list[Track]) -> list[dict[str, Any]]:
    if rng.random() >= WEAPON_PROBABILITY[level]:
        return []
    found = []
    for _ in range(rng.choice((1, 1, 1, 2))):
        holder = rng.choice(tracks)
        x1, y1, x2, _y2 = holder.bbox
        found.append(
            {
                "type": rng.choice(WEAPON_CLASSES),
                "confidence": round(rng.uniform(0.55, 0.97), 3),
                "bbox": [x2 - 20, y1 + 60, x2 + 25, y1 + 110]
                if x2 + 25 < FRAME_SIZE[0]
                else [x1, y1, x1 + 45, y1 + 50],
                "near_track_id": holder.track_id,
            }
        )
    return found


def threat_cv_incident(
    rng: random.Random,
    *,
    level: str,
    at: datetime,
    frame_id: int,
    source_id: str | None = None,
    location: tuple[float, float] | None = None,
) -> dict[str, Any]:
    """One ``POST /threats/report`` body of ``level``, seen at ``at`` (aware), as threat_cv sends it."""
    low, high = SCORE_BANDS[level]
    score = round(rng.uniform(low, high), 3)
    first_person, last_person = PEOPLE_RANGE[level]
    tracks = [
        _track(rng, track_id, 1 + THREAT_LEVELS.index(level))
        for track_id in range(1, rng.randint(first_person, last_person) + 1)
    ]
    weapons = _weapons(rng, level, tracks)
    pairs = _pair_interactions(rng, tracks, level)
    summary = rng.choice(BEHAVIOURS[level])
    if weapons:
        summary = f"{summary} + 🔪 {weapons[0]['type']} detected"
    report: dict[str, Any] = {
        "incident_id": f"INC_{at:%Y%m%d_%H%M%S}_{at.microsecond // 1000:03d}_{rng.getrandbits(16):04x}",
        "timestamp": at.isoformat(timespec="milliseconds"),
        "threat_level": level,
        "threat_score": score,
        "people_count": len(tracks),
        "weapon_detected": bool(weapons),
        "weapon_types": [weapon["type"] for weapon in weapons],
        "behavior_summary": summary,
        "is_critical": level == "CRITICAL",
        "full_telemetry": {
            "frame_id": frame_id,
            "fps": round(rng.uniform(24.0, ENGINE_FPS), 1),
            "frame_size": list(FRAME_SIZE),
            "motion": {
                "motion_detected": True,
                "motion_score": round(min(1.0, score + rng.uniform(-0.1, 0.15)), 3),
                "motion_regions": rng.randint(1, 2 + len(tracks)),
            },
            "detections": [
                {
                    "track_id": t.track_id,
                    "class": "person",
                    "confidence": round(rng.uniform(0.6, 0.98), 3),
                    "bbox": list(t.bbox),
                }
                for t in tracks
            ],
            "tracks": [
                {
                    "track_id": t.track_id,
                    "velocity": list(t.velocity),
                    "speed_px_s": round((t.velocity[0] ** 2 + t.velocity[1] ** 2) ** 0.5, 1),
                    "age_frames": rng.randint(10, 900),
                    "trajectory": [list(point) for point in t.trajectory],
                }
                for t in tracks
            ],
            "pair_interactions": pairs,
            "weapon_detection": {"detected": bool(weapons), "detections": weapons},
            "threat_assessment": {
                "threat_level": level,
                "threat_score": score,
                "components": {
                    "proximity": round(rng.uniform(low, 1.0), 3),
                    "following": round(
                        max((0.9 if p["following"] else 0.1) for p in pairs) if pairs else 0.0, 3
                    ),
                    "speed": round(rng.uniform(0, score), 3),
                    "weapon": round(max((w["confidence"] for w in weapons), default=0.0), 3),
                },
                "behavior_summary": summary,
                "is_critical": level == "CRITICAL",
            },
        },
    }
    if source_id is not None:
        report["source_id"] = source_id
    if location is not None:
        report["latitude"], report["longitude"] = location
        report["location_accuracy_m"] = round(rng.uniform(3, 25), 1)
    return report
