"""The alert factors give, to the last bit, what their plain formulation gives: ``geo.haversine_km``
per alert and the windows and weights of docs/SCORING.md (the factors share the fix's trigonometry and
skip alerts outside the window before measuring them, which must change nothing)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from safesphere.geo import haversine_km
from safesphere.scoring import constants as c
from safesphere.scoring import factors
from safesphere.scoring.model import AlertObservation, FactorResult, Fix

BASE = datetime(2026, 6, 1, tzinfo=UTC)


def _influence(fraction: float) -> float:
    return 1.0 - (1.0 - c.NEARBY_MIN_INFLUENCE) * max(0.0, min(1.0, fraction))


def plain_nearby(fix: Fix, alerts: list[AlertObservation]) -> FactorResult:
    counted, penalty = [], 0.0
    for alert in alerts:
        age = (fix.timestamp - alert.occurred_at).total_seconds()
        distance = haversine_km(fix.lat, fix.lon, alert.lat, alert.lon)
        if age < 0 or age > c.NEARBY_ALERT_WINDOW.total_seconds() or distance > c.NEARBY_ALERT_RADIUS_KM:
            continue
        counted.append(alert)
        penalty += (
            c.NEARBY_SEVERITY_PENALTY[alert.severity]
            * _influence(distance / c.NEARBY_ALERT_RADIUS_KM)
            * _influence(age / c.NEARBY_ALERT_WINDOW.total_seconds())
        )
    if not counted:
        return FactorResult("nearby_alerts", 100.0, "No alerts within 2km in last 6 hours", {"count": 0})
    worst = max((a.severity for a in counted), key=c.SEVERITY_ORDER.index)
    noun = "alert" if len(counted) == 1 else "alerts"
    details = f"{len(counted)} {noun} within 2km in last 6 hours (worst: {worst})"
    return FactorResult(
        "nearby_alerts",
        max(0.0, min(100.0, 100.0 - penalty)),
        details,
        {"count": len(counted), "worst": worst},
    )


def plain_history(fix: Fix, alerts: list[AlertObservation]) -> FactorResult:
    penalty, count = 0.0, 0
    for alert in alerts:
        age = (fix.timestamp - alert.occurred_at).total_seconds()
        distance = haversine_km(fix.lat, fix.lon, alert.lat, alert.lon)
        if age < 0 or age > c.HISTORY_WINDOW.total_seconds() or distance > c.HISTORY_RADIUS_KM:
            continue
        count += 1
        penalty += c.HISTORY_SEVERITY_PENALTY[alert.severity] * _influence(distance / c.HISTORY_RADIUS_KM)
    noun = "incident" if count == 1 else "incidents"
    score = max(0.0, min(100.0, round(100.0 - penalty, 2)))
    return FactorResult(
        "historical_risk", score, f"{count} {noun} in last 30 days within 1km", {"count": count}
    )


@st.composite
def fixes_with_alerts(draw: st.DrawFn) -> tuple[Fix, list[AlertObservation]]:
    fix = Fix(
        lat=draw(st.floats(min_value=-85.0, max_value=85.0)),
        lon=draw(st.floats(min_value=-180.0, max_value=180.0)),
        timestamp=BASE + timedelta(microseconds=draw(st.integers(0, 10**12))),
    )
    alerts = [
        AlertObservation(
            lat=fix.lat + draw(st.floats(min_value=-0.03, max_value=0.03)),
            lon=fix.lon + draw(st.floats(min_value=-0.03, max_value=0.03)),
            severity=draw(st.sampled_from(c.SEVERITY_ORDER)),
            occurred_at=fix.timestamp
            - timedelta(seconds=draw(st.floats(min_value=-3600, max_value=32 * 86_400))),
        )
        for _ in range(draw(st.integers(0, 15)))
    ]
    return fix, alerts


@settings(max_examples=400, deadline=None)
@given(fixes_with_alerts())
def test_alert_factors_equal_their_plain_formulation(case: tuple[Fix, list[AlertObservation]]) -> None:
    fix, alerts = case
    assert factors.nearby_alerts(fix, alerts) == plain_nearby(fix, alerts)
    assert factors.historical_risk(fix, alerts) == plain_history(fix, alerts)
