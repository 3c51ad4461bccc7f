"""The alert factors over arrays equal the per-fix factors exactly, for every fix they answer for."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from safesphere.scoring import alert_arrays, factors
from safesphere.scoring import constants as c
from safesphere.scoring.model import AlertObservation, Fix

BASE = datetime(2026, 6, 1, tzinfo=UTC)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _us(moment: datetime) -> int:
    delta = moment - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


@st.composite
def fixes_with_alerts(draw: st.DrawFn) -> tuple[Fix, list[AlertObservation]]:
    fix = Fix(
        lat=draw(st.floats(min_value=-60.0, max_value=60.0)),
        lon=draw(st.floats(min_value=-179.0, max_value=179.0)),
        timestamp=BASE + timedelta(microseconds=draw(st.integers(0, 10**12))),
    )
    alerts = [
        AlertObservation(
            lat=fix.lat + draw(st.floats(min_value=-0.02, max_value=0.02)),
            lon=fix.lon + draw(st.floats(min_value=-0.02, max_value=0.02)),
            severity=draw(st.sampled_from(c.SEVERITY_ORDER)),
            occurred_at=fix.timestamp
            - timedelta(microseconds=draw(st.integers(-(10**9), 31 * 86_400 * 10**6))),
        )
        for _ in range(draw(st.integers(0, 12)))
    ]
    if draw(st.booleans()):
        alerts.append(AlertObservation(fix.lat, fix.lon, "critical", fix.timestamp))  # at the spot, right now
    return fix, alerts


def _pairs(batch: list[tuple[Fix, list[AlertObservation]]]) -> alert_arrays.AlertPairs:
    rows = [(i, a, fix) for i, (fix, alerts) in enumerate(batch) for a in alerts]
    return alert_arrays.AlertPairs(
        fix=np.array([i for i, _, _ in rows], dtype=np.int64),
        lat=np.array([a.lat for _, a, _ in rows], dtype=np.float64),
        lon=np.array([a.lon for _, a, _ in rows], dtype=np.float64),
        age_s=np.array([_us(f.timestamp) - _us(a.occurred_at) for _, a, f in rows], dtype=np.int64) / 1e6,
        severity=np.array([alert_arrays.SEVERITY_INDEX[a.severity] for _, a, _ in rows], dtype=np.int64),
    )


@settings(max_examples=60, deadline=None)
@given(st.lists(fixes_with_alerts(), min_size=1, max_size=30))
def test_array_factors_equal_the_factors_fix_by_fix(batch: list[tuple[Fix, list[AlertObservation]]]) -> None:
    pairs = _pairs(batch)
    lat = np.array([fix.lat for fix, _ in batch])
    lon = np.array([fix.lon for fix, _ in batch])
    nearby = alert_arrays.nearby_alerts(pairs, lat, lon)
    history = alert_arrays.historical_risk(pairs, lat, lon)

    for (fix, alerts), near, past in zip(batch, nearby, history, strict=True):
        assert near is None or near == factors.nearby_alerts(fix, alerts)
        assert past is None or past == factors.historical_risk(fix, alerts)
    answered = sum(r is not None for r in nearby + history)
    assert answered >= 0.9 * 2 * len(batch)  # the per-fix fallback is the exception


def test_an_alert_exactly_on_the_radius_is_left_to_the_factor() -> None:
    fix = Fix(48.0, 2.0, BASE)
    edge = AlertObservation(48.0 + np.degrees(c.HISTORY_RADIUS_KM / 6371.0088), 2.0, "high", BASE)
    batch = [(fix, [edge])]

    (past,) = alert_arrays.historical_risk(_pairs(batch), np.array([fix.lat]), np.array([fix.lon]))

    assert past is None
