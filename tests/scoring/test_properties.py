"""Properties of the safety score that must hold for every input, checked on generated inputs."""

from __future__ import annotations

import dataclasses
import itertools
import math
import random
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import Polygon

from safesphere.scoring import constants as c
from safesphere.scoring.assessment import assess, tourist_safety_score
from safesphere.scoring.factors import speed_anomaly, zone_risk
from safesphere.scoring.model import AlertObservation, Fix, PreviousFix, ScoringInput, ZoneProximity
from safesphere.zones.geometry import ZoneShape, relation

PROPERTY_SETTINGS = settings(max_examples=150, deadline=None)
"""Scoring looks up the time zone and the sun: no per-example deadline, enough examples to find edges."""

BASE = datetime(2026, 6, 1, tzinfo=UTC)
SEVERITIES = st.sampled_from(c.SEVERITY_ORDER)
ZONE_TYPES = st.sampled_from(("restricted", "risky", "safe"))

latitudes = st.floats(min_value=-60.0, max_value=60.0, allow_nan=False)
longitudes = st.floats(min_value=-179.0, max_value=179.0, allow_nan=False)
instants = st.integers(min_value=0, max_value=365 * 24 * 3600).map(lambda s: BASE + timedelta(seconds=s))


@st.composite
def fixes(draw: st.DrawFn) -> Fix:
    return Fix(
        lat=draw(latitudes),
        lon=draw(longitudes),
        timestamp=draw(instants),
        speed_mps=draw(st.none() | st.floats(min_value=0.0, max_value=400.0)),
        accuracy_m=draw(st.none() | st.floats(min_value=0.0, max_value=500.0)),
    )


@st.composite
def alerts_near(draw: st.DrawFn, fix: Fix) -> AlertObservation:
    """An alert within a few km and a few days of the fix, before or after it."""
    return AlertObservation(
        lat=fix.lat + draw(st.floats(min_value=-0.03, max_value=0.03)),
        lon=fix.lon + draw(st.floats(min_value=-0.03, max_value=0.03)),
        severity=draw(SEVERITIES),
        occurred_at=fix.timestamp - timedelta(minutes=draw(st.integers(min_value=-600, max_value=50_000))),
    )


@st.composite
def zone_proximities(draw: st.DrawFn) -> ZoneProximity:
    inside = draw(st.booleans())
    return ZoneProximity(
        zone_id=draw(st.integers(min_value=1, max_value=10_000)),
        name=draw(st.text(min_size=1, max_size=12)),
        type=draw(ZONE_TYPES),
        inside=inside,
        distance_km=0.0 if inside else draw(st.floats(min_value=0.0, max_value=5.0)),
    )


@st.composite
def scoring_inputs(draw: st.DrawFn) -> ScoringInput:
    fix = draw(fixes())
    previous = None
    if draw(st.booleans()):
        previous = PreviousFix(
            lat=fix.lat + draw(st.floats(min_value=-0.5, max_value=0.5)),
            lon=fix.lon + draw(st.floats(min_value=-0.5, max_value=0.5)),
            timestamp=fix.timestamp - timedelta(seconds=draw(st.integers(min_value=0, max_value=7200))),
        )
    alerts = draw(st.lists(alerts_near(fix), max_size=8))
    return ScoringInput(
        fix=fix,
        nearby_alerts=alerts,
        historical_alerts=alerts,
        zones=draw(st.lists(zone_proximities(), max_size=6)),
        tourists_nearby=draw(st.integers(min_value=0, max_value=100)),
        previous_fix=previous,
        recent_speeds_mps=draw(st.lists(st.floats(min_value=0.0, max_value=40.0), max_size=10)),
    )


@PROPERTY_SETTINGS
@given(scoring_inputs())
def test_every_score_is_between_0_and_100(data: ScoringInput) -> None:
    assessment = assess(data)

    assert 0.0 <= assessment.location_safety_score <= 100.0
    assert all(0.0 <= factor.score <= 100.0 for factor in assessment.factors)
    assert math.isclose(sum(f.weight for f in assessment.factors), 1.0)


@PROPERTY_SETTINGS
@given(st.data())
def test_adding_an_alert_never_raises_the_score(data: st.DataObject) -> None:
    before = data.draw(scoring_inputs())
    extra = data.draw(alerts_near(before.fix))
    after = ScoringInput(
        fix=before.fix,
        nearby_alerts=[*before.nearby_alerts, extra],
        historical_alerts=[*before.historical_alerts, extra],
        zones=before.zones,
        tourists_nearby=before.tourists_nearby,
        previous_fix=before.previous_fix,
        recent_speeds_mps=before.recent_speeds_mps,
    )

    assert assess(after).location_safety_score <= assess(before).location_safety_score


@PROPERTY_SETTINGS
@given(st.lists(zone_proximities(), max_size=8, unique_by=lambda z: z.zone_id), st.randoms())
def test_zone_risk_does_not_depend_on_the_order_zones_are_stored_in(
    zones: list[ZoneProximity], shuffler: random.Random
) -> None:
    shuffled = list(zones)
    shuffler.shuffle(shuffled)

    assert zone_risk(shuffled) == zone_risk(zones)


@PROPERTY_SETTINGS
@given(st.lists(zone_proximities().filter(lambda z: z.type == "safe"), max_size=4))
def test_a_safe_zone_cannot_cancel_a_restricted_zone_you_stand_in(safe_zones: list[ZoneProximity]) -> None:
    restricted = ZoneProximity(
        zone_id=1, name="Construction Site", type="restricted", inside=True, distance_km=0
    )
    inside_safe = [ZoneProximity(z.zone_id + 1, z.name, "safe", True, 0.0) for z in safe_zones]

    assert zone_risk([*inside_safe, restricted]).score == c.ZONE_SCORE_INSIDE["restricted"]


@st.composite
def restricted_shapes(draw: st.DrawFn) -> ZoneShape:
    """A restricted circle or convex polygon (a regular n-gon) of 50 m to 3 km around a city centre."""
    lat, lon = draw(st.floats(min_value=-60, max_value=60)), draw(st.floats(min_value=-170, max_value=170))
    radius_km = draw(st.floats(min_value=0.05, max_value=3.0))
    if draw(st.booleans()):
        return ZoneShape(1, "Circle", "restricted", lat, lon, radius_km, None)
    sides = draw(st.integers(min_value=3, max_value=12))
    turn = draw(st.floats(min_value=0.0, max_value=2 * math.pi))
    dlat = radius_km / 111.195
    dlon = dlat / math.cos(math.radians(lat))
    ring = [
        (
            lon + dlon * math.cos(turn + 2 * math.pi * k / sides),
            lat + dlat * math.sin(turn + 2 * math.pi * k / sides),
        )
        for k in range(sides)
    ]
    return ZoneShape(1, "Polygon", "restricted", lat, lon, radius_km, Polygon(ring))


@PROPERTY_SETTINGS
@given(
    restricted_shapes(),
    st.floats(min_value=0.0, max_value=2 * math.pi),
    st.floats(min_value=0.1, max_value=4.0),
)
def test_walking_deeper_into_a_restricted_zone_never_raises_zone_risk(
    zone: ZoneShape, heading: float, start_km_outside: float
) -> None:
    """Along a straight walk from outside to the zone's centre the zone score never goes up."""
    start_km = zone.radius_km + start_km_outside
    dlat = start_km / 111.195 * math.sin(heading)
    dlon = start_km / 111.195 * math.cos(heading) / math.cos(math.radians(zone.center_lat))
    scores = []
    for step in range(41):
        share = 1 - step / 40
        lat, lon = zone.center_lat + dlat * share, zone.center_lon + dlon * share
        inside, distance_km, bearing = relation(zone, lat, lon)
        proximity = ZoneProximity(zone.zone_id, zone.name, zone.type, inside, distance_km, bearing)
        scores.append(zone_risk([proximity]).score)

    assert all(later <= earlier + 1e-9 for earlier, later in itertools.pairwise(scores))
    assert scores[-1] == c.ZONE_SCORE_INSIDE["restricted"]


@PROPERTY_SETTINGS
@given(st.floats(min_value=0, max_value=100), st.none() | st.floats(min_value=0, max_value=100))
def test_the_tourist_score_lies_between_this_location_and_their_history(
    location: float, history: float | None
) -> None:
    blended = tourist_safety_score(location, history)

    low, high = (location, location) if history is None else sorted((location, history))
    assert round(low, 2) - 0.01 <= blended <= round(high, 2) + 0.01


def _with(data: ScoringInput, **changes: object) -> ScoringInput:
    return dataclasses.replace(data, **changes)  # type: ignore[arg-type]


@PROPERTY_SETTINGS
@given(st.data(), st.sampled_from(c.NOT_COUNTED_ALERT_TYPES))
def test_another_tourists_anomaly_alert_or_a_warning_never_changes_a_score(
    data: st.DataObject, kind: str
) -> None:
    """Issue 15: an anomaly alert is a signal about one person and a warning a copy of an incident, so
    neither moves anyone's score (nearby or history)."""
    before = data.draw(scoring_inputs())
    extra = dataclasses.replace(data.draw(alerts_near(before.fix)), type=kind, alert_id=99)
    after = _with(
        before,
        nearby_alerts=[*before.nearby_alerts, extra],
        historical_alerts=[extra, *before.historical_alerts],
    )

    assert assess(after) == assess(before)


@PROPERTY_SETTINGS
@given(
    scoring_inputs(),
    st.floats(min_value=0.0, max_value=500.0),
    st.floats(min_value=0.0, max_value=500.0),
    st.floats(min_value=0.0, max_value=2000.0),
    st.booleans(),
)
def test_a_wider_accuracy_radius_never_lowers_speed_anomaly(
    data: ScoringInput, fix_accuracy: float, previous_accuracy: float, growth: float, dark_in_risky: bool
) -> None:
    """Issue 15: the less sure the fixes are of where they were, the less a move between them can say."""
    previous = data.previous_fix or PreviousFix(data.fix.lat + 0.01, data.fix.lon, data.fix.timestamp)
    previous = dataclasses.replace(previous, accuracy_m=previous_accuracy)
    sharp = dataclasses.replace(data.fix, accuracy_m=fix_accuracy)
    blurred = dataclasses.replace(data.fix, accuracy_m=fix_accuracy + growth)

    def score(fix: Fix) -> float:
        return speed_anomaly(fix, previous, data.recent_speeds_mps, dark_in_risky_zone=dark_in_risky).score

    assert score(blurred) >= score(sharp)
