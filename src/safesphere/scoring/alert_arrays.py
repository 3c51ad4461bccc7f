"""The two alert factors for many fixes at once, over arrays (batched rescoring): term for term the
arithmetic of ``factors.nearby_alerts`` and ``factors.historical_risk``, each fix's penalties added one by
one in its list order, so the same doubles at a fraction of the cost per alert.

numpy's sin and asin may differ from ``math``'s in the last bits, so a fix whose result could depend on
those bits (an alert within a hair of the radius, a score within a hair of a rounding edge) gets no
result here (None) and is scored by the factor itself.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from safesphere.geo import EARTH_RADIUS_KM
from safesphere.scoring import constants as c
from safesphere.scoring.model import FactorResult

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]

EDGE_KM = 1e-9
"""An array distance this close to a radius might fall on the other side of it with ``math``'s."""
EDGE_POINTS = 1e-7
"""A score this close (in points) to where rounding to 2 decimals flips might round the other way."""
SEVERITY_INDEX = {name: index for index, name in enumerate(c.SEVERITY_ORDER)}


def haversine_km(lat1: Floats, lon1: Floats, lat2: Floats, lon2: Floats) -> Floats:
    """``geo.haversine_km`` over arrays, operation for operation (numpy's sin/asin, within ulps)."""
    phi1, phi2 = np.radians(lat1), np.radians(lat2)
    a = (
        np.sin((phi2 - phi1) / 2) ** 2
        + np.cos(phi1) * np.cos(phi2) * np.sin(np.radians(lon2 - lon1) / 2) ** 2
    )
    result: Floats = 2 * EARTH_RADIUS_KM * np.arcsin(np.minimum(1.0, np.sqrt(a)))
    return result


@dataclass(frozen=True)
class AlertPairs:
    """Alerts paired with the fixes whose lists hold them: pair k puts an alert in fix ``fix[k]``'s list.
    A fix's pairs are consecutive and in its list's order (the order its penalties add up in)."""

    fix: Ints
    lat: Floats
    lon: Floats
    age_s: Floats
    """(fix time - alert time) in seconds: exact microseconds / 1e6, as ``timedelta.total_seconds``."""
    severity: Ints
    """Index in SEVERITY_ORDER; -1 for a severity the factors do not know."""


def _influence(fraction_of_limit: Floats) -> Floats:
    result: Floats = 1.0 - (1.0 - c.NEARBY_MIN_INFLUENCE) * np.clip(fraction_of_limit, 0.0, 1.0)
    return result


def _sequential_sums(fix: Ints, terms: Floats, count: int) -> Floats:
    """Per fix, its terms added one at a time in order (numpy's own sums pair them up differently)."""
    if count == 1:  # one fix (a location update): a running sum is sequential by definition
        return np.add.accumulate(terms)[-1:] if len(terms) else np.zeros(1)
    starts = np.searchsorted(fix, np.arange(count))
    rank = np.arange(len(fix)) - starts[fix]
    table = np.zeros((count, int(rank.max(initial=-1)) + 1))
    table[fix, rank] = terms
    totals = np.zeros(count)
    for column in table.T:
        totals += column
    return totals


def _near_rounding_edge(points: float) -> bool:
    """Whether ``round(points, 2)`` could go the other way for a value a hair away."""
    hundredths = points * 100.0
    return abs(hundredths - math.floor(hundredths) - 0.5) * 0.01 < EDGE_POINTS


@dataclass(frozen=True)
class _Counted:
    members: npt.NDArray[np.bool_]
    penalty: Floats
    count: Ints
    unsure: npt.NDArray[np.bool_]


def _count(
    pairs: AlertPairs,
    fix_lat: Floats,
    fix_lon: Floats,
    weights: Floats,
    radius_km: float,
    window: tuple[float, float],
) -> _Counted:
    """The alerts each fix counts (inside window and radius) and their penalties added in list order;
    ``window`` is (earliest, latest) age in seconds (the latest negative by the clock-skew tolerance)."""
    distance = haversine_km(fix_lat[pairs.fix], fix_lon[pairs.fix], pairs.lat, pairs.lon)
    timely = (pairs.age_s >= window[0]) & (pairs.age_s <= window[1])
    members = timely & (distance <= radius_km)
    term = np.where(members, weights * _influence(distance / radius_km), 0.0)
    count = len(fix_lat)
    unsure = np.zeros(count, dtype=bool)
    unsure[pairs.fix[timely & ((np.abs(distance - radius_km) < EDGE_KM) | (pairs.severity < 0))]] = True
    return _Counted(members, term, np.bincount(pairs.fix[members], minlength=count), unsure)


def nearby_alerts(
    pairs: AlertPairs, fix_lat: Floats, fix_lon: Floats, skew_tolerance_s: float = 0.0
) -> list[FactorResult | None]:
    """``factors.nearby_alerts`` for each fix (None where only the factor itself can tell)."""
    window = c.NEARBY_ALERT_WINDOW.total_seconds()
    table = np.array(
        [c.NEARBY_SEVERITY_PENALTY.get(s, c.NEARBY_SEVERITY_PENALTY["low"]) for s in c.SEVERITY_ORDER]
    )
    counted = _count(
        pairs, fix_lat, fix_lon, table[pairs.severity], c.NEARBY_ALERT_RADIUS_KM, (-skew_tolerance_s, window)
    )
    term = np.where(counted.members, counted.penalty * _influence(pairs.age_s / window), 0.0)
    penalties = _sequential_sums(pairs.fix, term, len(fix_lat)).tolist()
    worst = np.full(len(fix_lat), -1)
    np.maximum.at(worst, pairs.fix[counted.members], pairs.severity[counted.members])
    results: list[FactorResult | None] = []
    for n, penalty, severity, unsure in zip(
        counted.count.tolist(), penalties, worst.tolist(), counted.unsure.tolist(), strict=True
    ):
        score = max(0.0, min(100.0, 100.0 - penalty))
        if unsure or (n and _near_rounding_edge(score)):
            results.append(None)
        elif not n:
            results.append(
                FactorResult("nearby_alerts", 100.0, "No alerts within 2km in last 6 hours", {"count": 0})
            )
        else:
            name, noun = c.SEVERITY_ORDER[severity], "alert" if n == 1 else "alerts"
            details = f"{n} {noun} within 2km in last 6 hours (worst: {name})"
            results.append(FactorResult("nearby_alerts", score, details, {"count": n, "worst": name}))
    return results


def historical_risk(
    pairs: AlertPairs, fix_lat: Floats, fix_lon: Floats, skew_tolerance_s: float = 0.0
) -> list[FactorResult | None]:
    """``factors.historical_risk`` for each fix (None where only the factor itself can tell)."""
    table = np.array(
        [c.HISTORY_SEVERITY_PENALTY.get(s, c.HISTORY_SEVERITY_PENALTY["low"]) for s in c.SEVERITY_ORDER]
    )
    window = c.HISTORY_WINDOW.total_seconds()
    counted = _count(
        pairs, fix_lat, fix_lon, table[pairs.severity], c.HISTORY_RADIUS_KM, (-skew_tolerance_s, window)
    )
    penalties = _sequential_sums(pairs.fix, counted.penalty, len(fix_lat)).tolist()
    results: list[FactorResult | None] = []
    for n, penalty, unsure in zip(counted.count.tolist(), penalties, counted.unsure.tolist(), strict=True):
        if unsure or _near_rounding_edge(100.0 - penalty):
            results.append(None)
            continue
        noun = "incident" if n == 1 else "incidents"
        score = max(0.0, min(100.0, round(100.0 - penalty, 2)))
        results.append(
            FactorResult("historical_risk", score, f"{n} {noun} in last 30 days within 1km", {"count": n})
        )
    return results
