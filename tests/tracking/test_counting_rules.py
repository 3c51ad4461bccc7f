"""Golden scenarios of issue 15 ("the safety score means what a tourist and a control room expect") and
the score side of issue 14 (closing an alert, clocks that are off), with exact factor scores."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from safesphere.core import clock
from safesphere.core.config import Settings
from safesphere.core.db import Database
from safesphere.tracking.rescoring.service import update_location_safety_scores
from safesphere.zones.spatial_index import ZoneIndex
from tests.factories import Account, Factory
from tests.test_access import _routes
from tests.tracking.fixtures import (
    MINUTE,
    SPOT,
    camera_sees_threat,
    factors_by_name,
    restricted_zone_here,
    send_fix,
)

LATE_EVENING = datetime(2026, 11, 20, 22, 30, tzinfo=UTC)  # 23:30 in Paris
NOON = datetime(2026, 11, 20, 11, 0, tzinfo=UTC)  # 12:00 in Paris
KM_NORTH = 1 / 111.195
SOS_TEXT = "I am Maria, room 412 at Hotel Lumiere, call +33 6 12 34 56 78"


def _scores(body: dict[str, Any]) -> dict[str, float]:
    return {name: f["score"] for name, f in factors_by_name(body).items()}


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"escalation_rounds": 0, "rescore_interval_s": 0}


def test_one_tourists_anomaly_alert_never_counts_against_another_or_back(
    client: TestClient, factory: Factory
) -> None:
    """A scores low in a restricted zone near two camera reports and raises an anomaly alert; B arrives at
    the same spot: A's alert is no incident for B, and B's own alert is none for A's next fix."""
    officer, a, b = factory.authority(), factory.tourist(), factory.tourist()
    restricted_zone_here(client, officer)
    with clock.frozen(LATE_EVENING + MINUTE) as frozen:
        camera_sees_threat(client, factory, LATE_EVENING - 36 * MINUTE)
        camera_sees_threat(client, factory, LATE_EVENING - 36 * MINUTE)
        first_a = send_fix(client, a, LATE_EVENING)
        frozen.advance(minutes=1)
        first_b = send_fix(client, b, LATE_EVENING + MINUTE)
        frozen.advance(minutes=1)
        next_a = send_fix(client, a, LATE_EVENING + 2 * MINUTE)

    assert first_a["location_safety_score"] == 35.95 and first_a["alert_triggered"] is True
    assert _scores(first_b) == {
        "nearby_alerts": 24.11,  # 100 - 2 x 40 x (1 - 0.5 x 37/360): the two camera reports only
        "zone_risk": 10.0,
        "time_of_day": 35.0,
        "crowd_density": 43.0,  # A within 1 km at night in the zone: 40 + 60 x 1/20
        "speed_anomaly": 100.0,
        "historical_risk": 70.0,  # 100 - 2 x 15: no third "incident" from A's low score
    }
    assert factors_by_name(first_b)["historical_risk"]["details"] == "2 incidents in last 30 days within 1km"
    assert first_b["location_safety_score"] == 36.28 and first_b["alert_triggered"] is True
    assert _scores(next_a)["nearby_alerts"] == 24.22  # 100 - 80 x (1 - 0.5 x 38/360): B's alert is not one
    assert factors_by_name(next_a)["nearby_alerts"]["details"] == (
        "2 alerts within 2km in last 6 hours (worst: critical)"
    )


def test_nearby_risks_lists_an_incident_once_and_never_another_tourists_warning(
    client: TestClient, factory: Factory
) -> None:
    """Three tourists near a camera incident are warned; a fourth sees the one incident, not four."""
    warned = [factory.tourist() for _ in range(3)]
    fourth = factory.tourist()
    with clock.frozen(NOON) as frozen:
        for n, tourist in enumerate(warned):
            send_fix(client, tourist, NOON - MINUTE, lat=SPOT[0] + 0.001 * n)
        frozen.advance(minutes=1)
        incident_id = camera_sees_threat(client, factory, NOON + MINUTE)
        frozen.advance(minutes=1)
        fix = send_fix(client, fourth, NOON + 2 * MINUTE, lat=SPOT[0] + 0.5 * KM_NORTH)
        risks = client.get("/location/nearby-risks", headers=fourth.headers).json()

    assert len(client.get("/me/alerts", headers=warned[0].headers).json()) == 1
    assert [(a["type"], a["severity"]) for a in risks["nearby_alerts"]] == [("incident", "critical")]
    assert risks["risk_summary"]["total_alerts"] == risks["risk_summary"]["critical_alerts"] == 1
    assert "from you" not in str(risks)
    assert factors_by_name(fix)["nearby_alerts"]["details"].startswith("1 alert within")
    assert incident_id


def _tourist_gets(client: TestClient) -> list[str]:
    """Every GET route without path parameters (those a tourist may call answer 200), from the route
    table as tests/test_access.py walks it."""
    return sorted({path for method, path, _ in _routes(client.app) if method == "GET" and "{" not in path})  # type: ignore[arg-type]


def test_another_tourists_sos_message_name_and_exact_place_reach_no_tourist_endpoint(
    client: TestClient, factory: Factory
) -> None:
    a, b = factory.tourist(), factory.tourist()
    with clock.frozen(NOON):
        send_fix(client, a, NOON - MINUTE)
        exact = (SPOT[0] + 0.00123, SPOT[1] + 0.00456)
        sos = client.post(
            "/sos", json={"lat": exact[0], "lon": exact[1], "message": SOS_TEXT}, headers=b.headers
        )
        assert sos.status_code == 201
        answers = {path: client.get(path, headers=a.headers) for path in _tourist_gets(client)}
        risks = answers["/location/nearby-risks"].json()

    seen = [  # the API's data answers (static files such as the docs' JavaScript hold no tourist data)
        path
        for path, response in answers.items()
        if response.status_code == 200 and response.headers["content-type"].startswith("application/json")
    ]
    assert {"/location/nearby-risks", "/location/safety-analysis", "/me/alerts", "/safety/score"} <= set(seen)
    for path in seen:
        assert "Maria" not in answers[path].text and "412" not in answers[path].text, path
        assert str(exact[0]) not in answers[path].text, path
    [shown] = risks["nearby_alerts"]
    assert (shown["type"], shown["severity"], shown["title"]) == ("sos", "critical", "SOS nearby")
    assert shown["location"] == {"lat": round(exact[0], 3), "lon": round(exact[1], 3)}
    own = client.get("/me/alerts", headers=b.headers).json()
    assert own[0]["description"] == SOS_TEXT  # the tourist's own alert, in full


def _moves(client: TestClient, tourist: Account, fixes: list[dict[str, Any]]) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for fix in fixes:
        body = send_fix(client, tourist, **fix)
    return body


def test_trains_buses_and_blurred_fixes_are_ordinary_movement_and_only_a_teleport_is_not(
    client: TestClient, factory: Factory
) -> None:
    """300 km/h by high-speed rail, walking onto a bus, two fixes 200 m apart with 150 m accuracy each:
    none is an anomaly, none says "press SOS"; a 32,000 km/h jump is implausible and says why."""
    train, bus, blurred, teleport = (factory.tourist() for _ in range(4))
    east = 1 / (111.195 * 0.658)  # degrees of longitude in a km at Paris
    with clock.frozen(NOON + 10 * MINUTE):
        on_train = _moves(
            client,
            train,
            [{"at": NOON, "speed": 83.0}, {"at": NOON + MINUTE, "lon": SPOT[1] + 5 * east, "speed": 83.3}],
        )
        on_bus = _moves(
            client,
            bus,
            [{"at": NOON + k * MINUTE, "speed": 1.2} for k in range(3)]
            + [{"at": NOON + 3 * MINUTE, "speed": 13.0}],
        )
        moved = _moves(
            client,
            blurred,
            [
                {"at": NOON, "accuracy": 150.0, "speed": None},
                {
                    "at": NOON + timedelta(seconds=2.4),
                    "lat": SPOT[0] + 0.2 * KM_NORTH,
                    "accuracy": 150.0,
                    "speed": None,
                },
            ],
        )
        jumped = _moves(
            client,
            teleport,
            [{"at": NOON}, {"at": NOON + MINUTE, "lat": SPOT[0] + 533 * KM_NORTH}],  # 32,000 km/h
        )

    assert factors_by_name(on_train)["speed_anomaly"]["details"] == "Vehicle speed (300 km/h)"
    assert _scores(on_train)["speed_anomaly"] == 80.0
    assert _scores(on_bus)["speed_anomaly"] == 100.0  # 47 km/h after walking: a change of mode
    assert _scores(moved)["speed_anomaly"] == 100.0  # the accuracy radii cover the 200 m
    assert _scores(jumped)["speed_anomaly"] == 10.0
    for body in (on_train, on_bus, moved, jumped):
        assert not any("SOS" in r for r in body["ai_analysis"]["recommendations"])
    assert (
        "Your position jumped implausibly: check your phone's location"
        in (jumped["ai_analysis"]["recommendations"])
    )


def test_alone_at_noon_in_a_central_square_is_not_told_to_find_people(
    client: TestClient, factory: Factory
) -> None:
    with clock.frozen(NOON + MINUTE):
        body = send_fix(client, factory.tourist(), NOON)

    assert _scores(body) == {
        "nearby_alerts": 100.0,
        "zone_risk": 80.0,
        "time_of_day": 90.0,
        "crowd_density": 70.0,  # no app users: neutral in daylight, not "isolated"
        "speed_anomaly": 100.0,
        "historical_risk": 100.0,
    }
    assert body["location_safety_score"] == 90.5
    assert body["ai_analysis"]["recommendations"] == []


def test_every_view_says_which_score_its_risk_level_belongs_to(client: TestClient, factory: Factory) -> None:
    """A calm first fix, then a critical place: the alert follows the location score ("critical"), the
    blended tourist score is "high", and every view names both."""
    officer, tourist = factory.authority(), factory.tourist()
    with clock.frozen(NOON + MINUTE):
        calm = send_fix(client, tourist, NOON, lat=SPOT[0] + 5 * KM_NORTH)
    restricted_zone_here(client, officer)
    with clock.frozen(LATE_EVENING + MINUTE):
        camera_sees_threat(client, factory, LATE_EVENING - 36 * MINUTE)
        camera_sees_threat(client, factory, LATE_EVENING - 36 * MINUTE)
        body = send_fix(client, tourist, LATE_EVENING)
        score = client.get("/safety/score", headers=tourist.headers).json()
        analysis = client.get("/location/safety-analysis", headers=tourist.headers).json()
        listed = client.get("/authority/tourists", headers=officer.headers).json()["tourists"]
        alert = client.get(f"/authority/tourists/{tourist.user.id}", headers=officer.headers).json()

    assert calm["location_safety_score"] == 90.5
    assert body["location_safety_score"] == 35.95
    assert body["tourist_safety_score"] == 52.32  # 0.7 x 35.95 + 0.3 x 90.5 = 52.315
    assert (body["location_risk_level"], body["tourist_risk_level"]) == ("critical", "high")
    assert body["risk_level"] == body["location_risk_level"]
    assert (score["location_risk_level"], score["tourist_risk_level"]) == ("critical", "high")
    assert (analysis["location_risk_level"], analysis["tourist_risk_level"]) == ("critical", "high")
    [row] = [t for t in listed if t["tourist_id"] == tourist.user.id]
    assert (row["location_risk_level"], row["tourist_risk_level"]) == ("critical", "high")
    assert alert["recent_alerts"][0]["severity"] == body["location_risk_level"]


def test_a_phone_clock_2_s_behind_still_sees_the_newest_sos(client: TestClient, factory: Factory) -> None:
    """Issue 14: the SOS is dated by the server; the fix by a phone 2 s behind, so "before" the SOS."""
    a, b = factory.tourist(), factory.tourist()
    with clock.frozen(NOON) as frozen:
        send_fix(client, b, NOON - MINUTE)
        assert client.post("/sos", headers=b.headers).status_code == 201
        frozen.advance(seconds=1)
        body = send_fix(client, a, NOON - timedelta(seconds=1))  # the phone's clock reads 2 s early

    assert _scores(body)["nearby_alerts"] == 60.0  # 100 - 40 (critical, at the spot, now)
    assert _scores(body)["historical_risk"] == 85.0  # 100 - 15


def _open_counts(client: TestClient, admin: Account) -> dict[tuple[str, str], float]:
    """``safesphere_alerts_not_resolved`` for the alert types a score counts (incident, SOS)."""
    response = client.get("/metrics", headers=admin.headers)
    assert response.status_code == 200, response.text
    return {
        (sample.labels["type"], sample.labels["status"]): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
        if sample.name == "safesphere_alerts_not_resolved" and sample.labels["type"] in ("incident", "sos")
    }


def test_resolved_stops_counting_as_nearby_and_a_false_alarm_counts_nowhere_also_after_rescoring(
    client: TestClient, factory: Factory, db: Database, settings: Settings
) -> None:
    """Issue 14 item 2, through the real routes: two camera incidents closed by ``POST
    /incidents/{id}/resolve`` (resolved, false alarm) and two SOS by ``POST /alerts/{id}/resolve``
    (resolved, false alarm). At once: /metrics, nearby-risks and the next score agree; rescoring the fix
    sent before the close keeps the resolved ones (open then) and drops the false alarms."""
    officer, admin = factory.authority(), factory.admin()
    a, b, c = factory.tourist(), factory.tourist(), factory.tourist()
    near = SPOT[0] + 0.2 * KM_NORTH
    with clock.frozen(NOON) as frozen:
        for tourist in (a, b, c):
            send_fix(client, tourist, NOON - MINUTE)
        resolved_incident = camera_sees_threat(client, factory, NOON, level="CRITICAL", lat=near)
        false_incident = camera_sees_threat(client, factory, NOON, level="HIGH", lat=near)
        resolved_sos = client.post("/sos", headers=b.headers).json()["alert_id"]
        false_sos = client.post("/sos", headers=c.headers).json()["alert_id"]
        frozen.advance(minutes=1)
        before = send_fix(client, a, NOON + MINUTE)
        risks_before = client.get("/location/nearby-risks", headers=a.headers).json()["risk_summary"]
        open_before = _open_counts(client, admin)
        frozen.advance(minutes=1)
        for incident_id, outcome in ((resolved_incident, "resolved"), (false_incident, "false_alarm")):
            closed = client.post(
                f"/incidents/{incident_id}/resolve", json={"outcome": outcome}, headers=officer.headers
            )
            assert closed.status_code == 200, closed.text
        for alert_id, outcome in ((resolved_sos, "resolved"), (false_sos, "false_alarm")):
            closed = client.post(
                f"/alerts/{alert_id}/resolve", json={"outcome": outcome}, headers=officer.headers
            )
            assert closed.status_code == 200, closed.text
        risks_after = client.get("/location/nearby-risks", headers=a.headers).json()
        open_after = _open_counts(client, admin)
        after = send_fix(client, a, NOON + 2 * MINUTE)
        update_location_safety_scores(database=db, settings=settings, zone_index=ZoneIndex(), hours_back=1)
        history = {h["id"]: h for h in client.get("/location/history", headers=a.headers).json()}

    assert open_before == {("incident", "open"): 2, ("sos", "open"): 2}
    assert risks_before["total_alerts"] == 4
    assert factors_by_name(before)["nearby_alerts"]["details"].startswith("4 alerts")
    assert factors_by_name(before)["historical_risk"]["details"] == "4 incidents in last 30 days within 1km"
    # closed: nothing open anywhere
    assert open_after == {}
    assert risks_after["nearby_alerts"] == [] and risks_after["risk_summary"]["total_alerts"] == 0
    assert _scores(after)["nearby_alerts"] == 100.0  # resolved: no longer nearby; false alarm: nowhere
    # the resolved incident (critical, 0.2 km) and the resolved SOS (critical, at the spot) stay in history
    assert factors_by_name(after)["historical_risk"]["details"] == "2 incidents in last 30 days within 1km"
    assert _scores(after)["historical_risk"] == pytest.approx(100 - 15 * (1 - 0.5 * 0.2) - 15, abs=0.01)
    # rescored: the fix before the close still saw the resolved ones open, never the false alarms
    rescored = history[before["location_id"]]
    assert rescored["safety_score"] > before["location_safety_score"]
    assert history[after["location_id"]]["safety_score"] == after["location_safety_score"]
