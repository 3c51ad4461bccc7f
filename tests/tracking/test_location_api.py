"""The tourist location endpoints: shapes, errors, trend statistics, nearby risks, SOS, profile, contacts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from fastapi.testclient import TestClient

from safesphere.alerts.models import Alert
from safesphere.auth.models import User
from safesphere.core import clock
from safesphere.core.db import Database
from safesphere.geo import grid_cell
from safesphere.tracking.models import LocationFix
from tests.factories import Factory
from tests.tracking.fixtures import (
    MINUTE,
    SPOT,
    camera_sees_threat,
    factors_by_name,
    fix_body,
    restricted_zone_here,
    send_fix,
)

NOW = datetime(2026, 11, 20, 13, 30, tzinfo=UTC)


def _fixes(db: Database) -> int:
    with db.read_session() as session:
        return session.scalar(sa.select(sa.func.count()).select_from(LocationFix)) or 0


def test_before_the_first_fix_the_reads_say_no_location_data(client: TestClient, factory: Factory) -> None:
    tourist = factory.tourist()
    for path in ("/location/safety-analysis", "/location/nearby-risks", "/safety/score"):
        response = client.get(path, headers=tourist.headers)
        assert response.status_code == 404
        assert response.json() == {"detail": "No location data found"}
    assert client.get("/location/history", headers=tourist.headers).json() == []
    trend = client.get("/location/safety-trend", headers=tourist.headers).json()
    assert trend == {"hours_back": 24, "data_points": 0, "trend": [], "statistics": None}
    assert client.post("/sos", headers=tourist.headers).json() == {"detail": "No location data found"}
    assert client.post("/location/update", json=fix_body(NOW)).json() == {"detail": "Not authenticated"}


def test_bad_fixes_name_the_field_and_store_nothing(
    client: TestClient, factory: Factory, db: Database
) -> None:
    tourist = factory.tourist()
    with clock.frozen(NOW):
        cases: list[tuple[dict[str, Any], str]] = [
            ({"lat": 91}, "lat"),
            ({"lon": -180.5}, "lon"),
            ({"speed": -1}, "speed"),
            ({"accuracy": -3}, "accuracy"),
            ({"timestamp": "yesterday"}, "timestamp"),
            ({"timestamp": (NOW + timedelta(minutes=6)).isoformat()}, "timestamp"),
        ]
        for change, field in cases:
            response = client.post(
                "/location/update", json={**fix_body(NOW), **change}, headers=tourist.headers
            )
            assert response.status_code == 422, (change, response.text)
            assert response.json()["detail"][0]["loc"] == ["body", field]
        missing = {k: v for k, v in fix_body(NOW).items() if k != "lat"}
        assert client.post("/location/update", json=missing, headers=tourist.headers).status_code == 422
        malformed = client.post(
            "/location/update", content=b"{", headers={**tourist.headers, "Content-Type": "application/json"}
        )
        assert malformed.status_code == 422
        assert (
            client.post(
                "/location/update", json=fix_body(NOW + 4 * MINUTE), headers=tourist.headers
            ).status_code
            == 200
        )
    assert _fixes(db) == 1


def test_latitude_longitude_aliases_history_and_trend(client: TestClient, factory: Factory) -> None:
    tourist = factory.tourist()
    with clock.frozen(NOW):
        aliased = {"latitude": SPOT[0], "longitude": SPOT[1], "timestamp": (NOW - 60 * MINUTE).isoformat()}
        first = client.post("/location/update", json=aliased, headers=tourist.headers)
        assert first.status_code == 200
        second = send_fix(client, tourist, NOW - 30 * MINUTE)
        third = send_fix(client, tourist, NOW)
        history = client.get("/location/history?limit=2", headers=tourist.headers).json()
        trend = client.get("/location/safety-trend?hours_back=2", headers=tourist.headers).json()
        score = client.get("/safety/score", headers=tourist.headers).json()

    assert [h["id"] for h in history] == [third["location_id"], second["location_id"]]
    assert set(history[0]) == {
        "id",
        "lat",
        "lon",
        "speed",
        "altitude",
        "accuracy",
        "timestamp",
        "safety_score",
        "safety_score_updated_at",
    }
    assert trend["data_points"] == 3
    scores = [p["safety_score"] for p in trend["trend"]]
    stats = trend["statistics"]
    assert stats["min_score"] == min(scores) and stats["max_score"] == max(scores)
    assert stats["score_volatility"] == round(max(scores) - min(scores), 2)
    assert stats["current_score"] == third["tourist_safety_score"]
    assert score == {
        "safety_score": third["tourist_safety_score"],
        "risk_level": third["tourist_risk_level"],
        "last_updated": NOW.isoformat().replace("+00:00", "Z"),
        "location_safety_score": third["location_safety_score"],
        "location_risk_level": third["location_risk_level"],
        "tourist_risk_level": third["tourist_risk_level"],
    }
    assert third["location_risk_level"] == third["risk_level"]
    for bad in ("hours_back=0", "hours_back=721", "hours_back=x"):
        assert client.get(f"/location/safety-trend?{bad}", headers=tourist.headers).status_code == 422
    assert client.get("/location/history?limit=100000", headers=tourist.headers).status_code == 422


def test_safety_analysis_and_nearby_risks_show_zones_and_located_incidents(
    client: TestClient, factory: Factory
) -> None:
    officer, tourist = factory.authority(), factory.tourist()
    zone = restricted_zone_here(client, officer, radius_km=0.3)
    with clock.frozen(NOW):
        camera_sees_threat(client, factory, NOW - 10 * MINUTE, level="HIGH", lat=SPOT[0] + 0.009, lon=SPOT[1])
        send_fix(client, tourist, NOW, lat=SPOT[0] - 0.0054, lon=SPOT[1])  # 600 m south of the centre
        analysis = client.get("/location/safety-analysis", headers=tourist.headers).json()
        risks = client.get("/location/nearby-risks?radius_km=2", headers=tourist.headers).json()
        spanish = client.get(
            "/location/safety-analysis", headers={**tourist.headers, "Accept-Language": "es-ES,en;q=0.5"}
        )

    zone_factor = next(f for f in analysis["factors"] if f["name"] == "zone_risk")
    assert zone_factor["details"] == "0.3km from restricted zone 'Construction Site'"
    assert "Avoid moving closer to the restricted zone 300m to the north" in analysis["recommendations"]
    assert "Evite acercarse a la zona restringida a 300 m al norte" in spanish.json()["recommendations"], (
        spanish.json()["recommendations"]
    )
    assert analysis["tourist_profile"]["id"] == tourist.user.id
    assert risks["search_radius_km"] == 2
    assert [a["type"] for a in risks["nearby_alerts"]] == ["incident"]
    assert risks["nearby_alerts"][0]["severity"] == "high"
    assert risks["nearby_alerts"][0]["distance_km"] == 1.6
    assert risks["nearby_risky_zones"][0]["zone_id"] == zone["id"]
    assert risks["nearby_risky_zones"][0]["is_inside"] is False
    assert risks["risk_summary"] == {
        "total_alerts": 1,
        "critical_alerts": 0,
        "high_alerts": 1,
        "risky_zones_nearby": 1,
        "inside_risky_zone": False,
    }
    for bad in ("0", "-1", "50.5"):
        assert (
            client.get(f"/location/nearby-risks?radius_km={bad}", headers=tourist.headers).status_code == 422
        )


def test_sos_is_critical_at_once_at_the_given_point_or_the_latest_fix(
    client: TestClient, factory: Factory
) -> None:
    tourist, officer = factory.tourist(), factory.authority()
    with clock.frozen(NOW):
        send_fix(client, tourist, NOW)
        at_fix = client.post("/sos", headers=tourist.headers)
        at_point = client.post(
            "/sos", json={"lat": 48.86, "lon": 2.35, "message": "Followed"}, headers=tourist.headers
        )
        half = client.post("/sos", json={"lat": 48.86}, headers=tourist.headers)
    assert at_fix.status_code == 201
    assert at_fix.json()["severity"] == "critical" and at_fix.json()["type"] == "sos"
    assert at_fix.json()["location"] == {"lat": SPOT[0], "lon": SPOT[1]}
    assert at_point.json()["description"] == "Followed"
    assert half.status_code == 422
    listed = client.get("/alerts?type=sos", headers=officer.headers).json()
    assert {a["alert_id"] for a in listed} == {at_fix.json()["alert_id"], at_point.json()["alert_id"]}


def test_profile_and_contacts(client: TestClient, factory: Factory) -> None:
    tourist = factory.tourist()
    updated = client.put(
        "/me/profile",
        json={"name": "Ana", "phone": "+34 600 000 000", "preferred_language": "fr"},
        headers=tourist.headers,
    )
    assert updated.status_code == 200
    assert client.get("/me/profile", headers=tourist.headers).json()["preferred_language"] == "fr"
    assert (
        client.put(
            "/me/profile", json={"preferred_language": "klingon!"}, headers=tourist.headers
        ).status_code
        == 422
    )
    contact = client.post(
        "/me/contacts",
        json={"name": "Mum", "relation": "mother", "phone": "+34 611 111 111"},
        headers=tourist.headers,
    )
    assert contact.status_code == 201
    unreachable = client.post("/me/contacts", json={"name": "Nobody"}, headers=tourist.headers)
    assert unreachable.status_code == 422
    assert [c["name"] for c in client.get("/me/contacts", headers=tourist.headers).json()] == ["Mum"]
    assert client.delete(f"/me/contacts/{contact.json()['id']}", headers=tourist.headers).status_code == 204
    assert client.get("/me/contacts", headers=tourist.headers).json() == []


def test_a_located_threat_warns_tourists_within_1_km_and_nobody_else(
    client: TestClient, factory: Factory
) -> None:
    near, far, stale = factory.tourist(), factory.tourist(), factory.tourist()
    now = clock.now()
    send_fix(client, near, now - MINUTE, lat=SPOT[0] + 0.005, lon=SPOT[1])  # ~560 m north
    send_fix(client, far, now - MINUTE, lat=SPOT[0] + 0.02, lon=SPOT[1])  # ~2.2 km north
    send_fix(client, stale, now - 60 * MINUTE, lat=SPOT[0], lon=SPOT[1])  # here, but an hour ago
    before = client.get("/location/safety-analysis", headers=near.headers).json()

    incident_id = camera_sees_threat(client, factory, now, level="HIGH")

    warnings = client.get("/me/alerts", headers=near.headers).json()
    assert [(w["type"], w["severity"], w["incident_id"]) for w in warnings] == [
        ("warning", "high", incident_id)
    ]
    assert "m from you" in warnings[0]["description"]
    assert warnings[0]["location"] == {"lat": SPOT[0], "lon": SPOT[1]}
    assert client.get("/me/alerts", headers=far.headers).json() == []
    assert client.get("/me/alerts", headers=stale.headers).json() == []
    low = camera_sees_threat(client, factory, now, level="LOW")
    assert low not in {w["incident_id"] for w in client.get("/me/alerts", headers=near.headers).json()}
    # The warning is a copy of the incident alert: the score counts the incident once, not twice.
    again = send_fix(client, near, now, lat=SPOT[0] + 0.005, lon=SPOT[1])
    assert factors_by_name(again)["nearby_alerts"]["details"].startswith("2 alerts")  # the HIGH and the LOW
    assert before["safety_score"] >= again["location_safety_score"]


KM_NORTH = 1 / 111.195
"""Degrees of latitude in a kilometre."""


def _alert(tourist_id: int | None = None, **fields: Any) -> Alert:
    return Alert(
        **{"type": "incident", "severity": "medium", "title": "seeded", "description": "seeded"}
        | {"tourist_id": tourist_id, "latitude": SPOT[0], "longitude": SPOT[1]}
        | fields
    )


def test_an_alert_counts_as_nearby_if_open_in_the_6_hours_and_as_history_within_1_km_in_30_days(
    client: TestClient, factory: Factory, db: Database
) -> None:
    tourist, other = factory.tourist(), factory.tourist()
    at = NOW - 30 * MINUTE
    hour, day, resolved = 60 * MINUTE, timedelta(days=1), "resolved"
    near, mid = SPOT[0] + 0.5 * KM_NORTH, SPOT[0] + 1.5 * KM_NORTH
    with clock.frozen(at), db.session() as session:  # received before the fix
        session.add_all(
            [
                _alert(latitude=mid, occurred_at=at - 2 * day),  # 1.5 km, two days: neither
                _alert(latitude=mid, occurred_at=at - hour, severity="high"),  # 1.5 km, an hour: nearby
                _alert(latitude=near, occurred_at=at - 2 * day, status=resolved, resolved_at=at - day),
                # resolved before the fix: history only; resolved after it: open then, so nearby too
                _alert(latitude=near, occurred_at=at - 2 * hour, status=resolved, resolved_at=at - hour),
                _alert(
                    latitude=near, occurred_at=at - 2 * hour, status="resolved", resolved_at=at + 20 * MINUTE
                ),
                _alert(latitude=near, occurred_at=at + 10 * MINUTE),  # after the fix: never
                _alert(latitude=near, occurred_at=at - 40 * day),  # older than 30 days: neither
                _alert(tourist.user.id, type="anomaly", occurred_at=at - hour),  # their own: left out
                # someone else's anomaly alert: a signal about that person, counted nowhere (issue 15)
                _alert(other.user.id, type="anomaly", occurred_at=at - hour),
                _alert(tourist.user.id, type="warning", occurred_at=at - hour),  # a copy: left out
            ]
        )
        session.commit()
    with clock.frozen(NOW):
        factors = factors_by_name(send_fix(client, tourist, at))

    assert factors["nearby_alerts"]["details"] == "2 alerts within 2km in last 6 hours (worst: high)"
    assert factors["historical_risk"]["details"] == "3 incidents in last 30 days within 1km"


def test_the_fix_is_stored_as_answered_and_a_late_fix_does_not_move_the_tourist_back(
    client: TestClient, factory: Factory, db: Database
) -> None:
    tourist, officer = factory.tourist(), factory.authority()
    north = SPOT[0] + KM_NORTH
    with clock.frozen(NOW):
        first = send_fix(client, tourist, NOW, lat=north)
        late = send_fix(client, tourist, NOW - 10 * MINUTE)
        watched = client.get(f"/authority/tourists/{tourist.user.id}", headers=officer.headers).json()
        score = client.get("/safety/score", headers=tourist.headers).json()
    with db.read_session() as session:
        stored = session.get(LocationFix, late["location_id"])
        assert stored is not None
        assert (stored.tourist_id, stored.latitude, stored.longitude) == (tourist.user.id, SPOT[0], SPOT[1])
        assert (stored.altitude, stored.speed, stored.accuracy) == (35.0, 1.2, 10.0)
        assert stored.timestamp == NOW - 10 * MINUTE and stored.cell == grid_cell(SPOT[0], SPOT[1])
        assert stored.safety_score == late["location_safety_score"]
        assert stored.tourist_safety_score == late["tourist_safety_score"]
        assert stored.risk_level == late["risk_level"] and stored.factors == late["ai_analysis"]["factors"]
        assert stored.safety_score_updated_at == NOW and stored.created_at == NOW

    assert late["location_id"] > first["location_id"]
    assert watched["status"]["location"] == {"lat": north, "lon": SPOT[1]}
    assert watched["status"]["tourist_safety_score"] == first["tourist_safety_score"]
    assert score["last_updated"] == NOW.isoformat().replace("+00:00", "Z")
    with clock.frozen(NOW + MINUTE):
        newer = send_fix(client, tourist, NOW + MINUTE)
        moved = client.get(f"/authority/tourists/{tourist.user.id}", headers=officer.headers).json()
    assert moved["status"]["location"] == {"lat": SPOT[0], "lon": SPOT[1]}
    assert moved["status"]["tourist_safety_score"] == newer["tourist_safety_score"]


def test_a_fix_with_a_token_its_account_no_longer_honours_is_refused_and_not_stored(
    client: TestClient, factory: Factory, db: Database
) -> None:
    """The route checks the token alone (``auth.access.tourist_token``, no query); the fix's unit of work
    confirms the account in the writer's transaction: deactivated, deleted, or its password or role changed
    after the token was issued, it is a 401 and nothing is written."""
    deactivated, deleted, changed = factory.tourist(), factory.tourist(), factory.tourist()
    with db.session() as session:
        session.execute(sa.update(User).where(User.id == deactivated.user.id).values(is_active=False))
        session.execute(sa.delete(User).where(User.id == deleted.user.id))
        later = clock.now() + timedelta(seconds=5)
        password_changed = sa.update(User).where(User.id == changed.user.id)
        session.execute(password_changed.values(credentials_changed_at=later))
        session.commit()
    for account in (deactivated, deleted, changed):
        refused = client.post("/location/update", json=fix_body(clock.now()), headers=account.headers)
        assert (refused.status_code, refused.json()) == (401, {"detail": "Not authenticated"})
    assert _fixes(db) == 0
    authority = factory.authority()  # the role is in the token: refused before the body is read
    assert client.post("/location/update", json={}, headers=authority.headers).status_code == 403
