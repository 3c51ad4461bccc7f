"""Each factor on hand-picked situations: the score band and the sentence a tourist reads."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from safesphere.scoring import constants as c
from safesphere.scoring import factors
from safesphere.scoring.assessment import risk_level, validate_weights
from safesphere.scoring.model import AlertObservation, Fix, PreviousFix

PARIS = (48.8584, 2.2945)
TOKYO = (35.6595, 139.7005)
NOON_UTC = datetime(2026, 11, 23, 13, 30, tzinfo=UTC)


def fix_at(when: datetime, where: tuple[float, float] = PARIS, speed: float | None = 1.2) -> Fix:
    return Fix(lat=where[0], lon=where[1], timestamp=when, speed_mps=speed)


def test_walking_at_the_usual_pace_is_normal_movement() -> None:
    now = fix_at(NOON_UTC, speed=1.3)
    previous = PreviousFix(PARIS[0] - 0.0005, PARIS[1], NOON_UTC - timedelta(minutes=1))

    result = factors.speed_anomaly(now, previous, [1.1, 1.2, 1.4])

    assert (result.score, result.details) == (c.SPEED_SCORE_NORMAL, "Normal movement speed")


def test_a_jump_of_ten_km_in_a_minute_is_implausible_even_if_the_phone_says_it_stood_still() -> None:
    now = fix_at(NOON_UTC, speed=0.0)
    previous = PreviousFix(PARIS[0] - 0.09, PARIS[1], NOON_UTC - timedelta(minutes=1))

    result = factors.speed_anomaly(now, previous, [1.2])

    assert result.score == c.SPEED_SCORE_IMPLAUSIBLE
    assert result.details.startswith("Implausible movement: ")


def _km_east(km: float) -> float:
    return km / (111.195 * math.cos(math.radians(PARIS[0])))


def test_a_high_speed_train_at_300_kmh_is_vehicle_speed_not_implausible() -> None:
    """Issue 15: a 300 km/h train read as a 32,000 km/h teleport (10, "press SOS")."""
    previous = PreviousFix(PARIS[0], PARIS[1] - _km_east(5.0), NOON_UTC - timedelta(minutes=1), 83.0, 10.0)
    train = Fix(PARIS[0], PARIS[1], NOON_UTC, 83.3, 10.0)

    result = factors.speed_anomaly(train, previous, [82.0, 83.0, 84.0])

    assert (result.score, result.details) == (c.SPEED_SCORE_VEHICLE, "Vehicle speed (300 km/h)")


def test_a_jump_faster_than_the_ground_limit_is_implausible_unless_at_aircraft_altitude() -> None:
    previous = PreviousFix(PARIS[0], PARIS[1] - _km_east(15.0), NOON_UTC - timedelta(minutes=1))
    on_the_ground = Fix(PARIS[0], PARIS[1], NOON_UTC, None, None, 35.0)
    in_the_air = Fix(PARIS[0], PARIS[1], NOON_UTC, None, 10.0, 10_500.0)

    assert factors.speed_anomaly(on_the_ground, previous, []).details == "Implausible movement: 900 km/h"
    assert factors.speed_anomaly(in_the_air, previous, []).score == c.SPEED_SCORE_VEHICLE
    slower_limit = factors.speed_anomaly(
        Fix(PARIS[0], PARIS[1], NOON_UTC, 70.0), None, [], max_ground_speed_mps=60
    )
    assert slower_limit.score == c.SPEED_SCORE_IMPLAUSIBLE  # the limit is a setting


def test_boarding_a_bus_after_walking_is_a_change_of_mode_not_an_anomaly() -> None:
    """Issue 15: walking then a bus at 47 km/h read as "Sudden speed change" (50, "press SOS")."""
    result = factors.speed_anomaly(fix_at(NOON_UTC, speed=13.0), None, [1.2, 1.2, 1.3])

    assert (result.score, result.details) == (c.SPEED_SCORE_NORMAL, "Normal movement speed")


def test_two_fixes_200_m_apart_with_150_m_accuracy_each_may_not_have_moved() -> None:
    """Issue 15: 200 m in 2.4 s read as 300 km/h; the accuracy radii (300 m together) cover the move."""
    previous = PreviousFix(PARIS[0] - 0.2 / 111.195, PARIS[1], NOON_UTC - timedelta(seconds=2.4), None, 150.0)
    now = Fix(PARIS[0], PARIS[1], NOON_UTC, None, 150.0)

    result = factors.speed_anomaly(now, previous, [])

    assert (result.score, result.facts["speed_kmh"]) == (c.SPEED_SCORE_NORMAL, 0.0)
    assert factors.implied_speed_mps(Fix(PARIS[0], PARIS[1], NOON_UTC, None, 0.0), previous) == (
        pytest.approx((200 - 150) / 2.4, rel=1e-3)
    )


def test_a_sudden_stop_after_vehicle_speed_scores_low_only_at_night_in_a_risky_zone() -> None:
    stopped = fix_at(NOON_UTC, speed=0.0)

    danger = factors.speed_anomaly(stopped, None, [16.0, 17.0, 15.5], dark_in_risky_zone=True)
    ordinary = factors.speed_anomaly(stopped, None, [16.0, 17.0, 15.5], dark_in_risky_zone=False)

    assert (danger.score, danger.details) == (
        c.SPEED_SCORE_SUDDEN_STOP,
        "Sudden stop after 58 km/h, at night in a risky zone",
    )
    assert ordinary.score == c.SPEED_SCORE_NORMAL


def test_riding_a_bus_all_along_is_vehicle_speed_not_sudden() -> None:
    result = factors.speed_anomaly(fix_at(NOON_UTC, speed=16.0), None, [15.0, 16.5, 14.0])

    assert (result.score, result.details) == (c.SPEED_SCORE_VEHICLE, "Vehicle speed (58 km/h)")


def test_fixes_less_than_a_second_apart_imply_no_speed() -> None:
    previous = PreviousFix(PARIS[0] - 0.01, PARIS[1], NOON_UTC - timedelta(milliseconds=500))

    assert factors.speed_anomaly(fix_at(NOON_UTC), previous, []).score == c.SPEED_SCORE_NORMAL


def test_the_local_time_comes_from_the_coordinates() -> None:
    """13:30 UTC is 14:30 in Paris (CET) and 22:30 in Tokyo (JST), whatever the phone's offset said."""
    paris = factors.time_of_day(fix_at(NOON_UTC, PARIS))
    tokyo = factors.time_of_day(fix_at(NOON_UTC, TOKYO))

    assert (paris.score, paris.details) == (c.TIME_SCORE_DAYLIGHT, "Daytime (14:30 local) - safer period")
    assert (tokyo.score, tokyo.details) == (c.TIME_SCORE_NIGHT, "Night (22:30 local) - reduced safety")


def test_late_night_is_the_least_safe_period() -> None:
    result = factors.time_of_day(fix_at(datetime(2026, 11, 23, 1, 30, tzinfo=UTC), PARIS))

    assert (result.score, result.details) == (
        c.TIME_SCORE_LATE_NIGHT,
        "Late night (02:30 local) - highest-risk period",
    )


def test_daylight_follows_the_sun_not_the_clock() -> None:
    """At 23:30 local in midsummer Tromsø the sun is up: daylight, not late night."""
    tromso = (69.6492, 18.9553)
    result = factors.time_of_day(fix_at(datetime(2026, 6, 21, 21, 30, tzinfo=UTC), tromso))

    assert (result.score, result.details) == (c.TIME_SCORE_DAYLIGHT, "Daytime (23:30 local) - safer period")


def test_an_alert_after_the_fix_is_not_seen() -> None:
    later = AlertObservation(PARIS[0], PARIS[1], "critical", NOON_UTC + timedelta(minutes=5))

    assert factors.nearby_alerts(fix_at(NOON_UTC), [later]).score == 100.0
    assert factors.historical_risk(fix_at(NOON_UTC), [later]).score == 100.0


def test_nearby_alerts_weigh_severity_closeness_and_recency() -> None:
    fresh_here = AlertObservation(PARIS[0], PARIS[1], "critical", NOON_UTC)
    old_far = AlertObservation(
        PARIS[0] + 0.017, PARIS[1], "critical", NOON_UTC - timedelta(hours=5, minutes=59)
    )
    fresh_minor = AlertObservation(PARIS[0], PARIS[1], "low", NOON_UTC)

    assert factors.nearby_alerts(fix_at(NOON_UTC), [fresh_here]).score == 100 - 40
    assert 85 < factors.nearby_alerts(fix_at(NOON_UTC), [old_far]).score < 91
    assert factors.nearby_alerts(fix_at(NOON_UTC), [fresh_minor]).score == 100 - 5
    two = factors.nearby_alerts(fix_at(NOON_UTC), [fresh_minor, fresh_minor])
    assert two.details == "2 alerts within 2km in last 6 hours (worst: low)"


def test_the_crowd_plateaus() -> None:
    assert factors.crowd_density(0, empty_is_risk=True).score == c.CROWD_SCORE_ALONE
    assert factors.crowd_density(8, empty_is_risk=True).details == "8 tourists within 1km"
    plateau = factors.crowd_density(c.CROWD_PLATEAU, empty_is_risk=True).score
    assert plateau == factors.crowd_density(500, empty_is_risk=False).score == 100.0


def test_no_app_users_around_is_neutral_unless_emptiness_is_a_risk() -> None:
    """Issue 15: alone at noon in a central square scored 40 ("stay in well-populated areas")."""
    assert factors.crowd_density(0, empty_is_risk=False).score == c.CROWD_SCORE_NEUTRAL == 70.0
    assert factors.crowd_density(10, empty_is_risk=False).score == 85.0
    assert factors.crowd_density(10, empty_is_risk=True).score == 70.0


@pytest.mark.parametrize(
    ("score", "level"),
    [
        (100, "low"),
        (80, "low"),
        (79.99, "medium"),
        (60, "medium"),
        (59.99, "high"),
        (40, "high"),
        (39.99, "critical"),
        (0, "critical"),
    ],
)
def test_risk_level_bands(score: float, level: str) -> None:
    assert risk_level(score) == level


@pytest.mark.parametrize(
    ("weights", "problem"),
    [
        ({**c.DEFAULT_WEIGHTS, "zone_risk": 0.3}, "sum to 1"),
        ({k: v for k, v in c.DEFAULT_WEIGHTS.items() if k != "crowd_density"}, "exactly these factors"),
        ({**c.DEFAULT_WEIGHTS, "nearby_alerts": -0.1, "zone_risk": 0.65}, "between 0 and 1"),
    ],
)
def test_weights_that_do_not_describe_a_score_are_refused(weights: dict[str, float], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        validate_weights(weights)
