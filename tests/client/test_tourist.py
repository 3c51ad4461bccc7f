"""TouristClient against a real server: register/login, re-login when the token stops working, the
location and SOS calls, and the errors a phone app sees."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import httpx
import pytest

from safesphere.client import ApiError, ServerUnreachable, TouristClient
from tests.factories import PASSWORD, Account, Factory
from tests.support.live import LiveServer

NEW_DELHI = (28.6139, 77.2090)


@pytest.fixture
def tourist(factory: Factory) -> Account:
    return factory.tourist()


@pytest.fixture
def tourist_side(live_server: LiveServer) -> bool:
    """Whether the tourist endpoints (issue 3) are on this server; before they land the client must
    still surface the server's 404 as an ``ApiError``, which the tests below then check instead."""
    paths = httpx.get(f"{live_server.url}/openapi.json", timeout=10).json()["paths"]
    return "/location/update" in paths


def assert_not_found(call: Callable[[], object]) -> None:
    with pytest.raises(ApiError) as raised:
        call()
    assert raised.value.status_code == 404


@pytest.fixture
def client(live_server: LiveServer, tourist: Account) -> Iterator[TouristClient]:
    with TouristClient(live_server.url, tourist.user.email, PASSWORD) as tourist_client:
        yield tourist_client


def test_register_creates_the_account_and_a_second_register_reuses_it(live_server: LiveServer) -> None:
    with TouristClient.register(live_server.url, "walker@example.com", PASSWORD, name="Walker") as first:
        me = first.me()
    assert me["email"] == "walker@example.com"
    assert me["role"] == "tourist"
    with TouristClient.register(live_server.url, "walker@example.com", PASSWORD) as again:
        assert again.me()["id"] == me["id"]


def test_a_wrong_password_is_an_api_error(live_server: LiveServer, tourist: Account) -> None:
    with (
        TouristClient(live_server.url, tourist.user.email, "not-the-password") as wrong,
        pytest.raises(ApiError) as raised,
    ):
        wrong.me()
    assert raised.value.status_code == 401
    assert raised.value.detail == "Incorrect email or password"


def test_the_client_logs_in_again_when_its_token_stops_working(
    live_server: LiveServer, client: TouristClient, tourist: Account
) -> None:
    assert client.me()["id"] == tourist.user.id
    live_server.stop()
    live_server.settings = live_server.settings.model_copy(
        update={"jwt_secret": "rotated-secret-" + "x" * 40}
    )
    live_server.start()

    assert client.me()["id"] == tourist.user.id


def test_an_unreachable_server_raises(live_server: LiveServer, client: TouristClient) -> None:
    live_server.kill()
    with pytest.raises(ServerUnreachable):
        client.me()


def test_a_location_update_returns_the_scored_fix(client: TouristClient, tourist_side: bool) -> None:
    if not tourist_side:
        assert_not_found(lambda: client.update_location(*NEW_DELHI))
        return
    scored = client.update_location(*NEW_DELHI, altitude=216.0, speed=1.2, accuracy=12.0)

    assert scored["status"] == "success"
    assert 0 <= scored["location_safety_score"] <= 100
    assert scored["risk_level"] in {"low", "medium", "high", "critical"}
    assert {factor["name"] for factor in scored["ai_analysis"]["factors"]} >= {"nearby_alerts", "zone_risk"}
    current = client.safety_score()
    assert current["safety_score"] == scored["tourist_safety_score"]
    [fix] = client.history(limit=10)
    assert fix["id"] == scored["location_id"]


def test_an_invalid_fix_is_a_422_naming_the_field(client: TouristClient, tourist_side: bool) -> None:
    if not tourist_side:
        assert_not_found(lambda: client.update_location(123.0, NEW_DELHI[1]))
        return
    with pytest.raises(ApiError) as raised:
        client.update_location(123.0, NEW_DELHI[1], timestamp=datetime.now(UTC))
    assert raised.value.status_code == 422
    assert any(error["loc"][-1] == "lat" for error in raised.value.detail)


def test_sos_raises_a_critical_alert(client: TouristClient, tourist_side: bool) -> None:
    if not tourist_side:
        assert_not_found(lambda: client.sos(message="Followed by two men"))
        return
    client.update_location(*NEW_DELHI)

    alert = client.sos(message="Followed by two men")

    assert alert["type"] == "sos"
    assert alert["severity"] == "critical"


def test_the_score_before_any_fix_is_a_404(client: TouristClient, tourist_side: bool) -> None:
    if not tourist_side:
        assert_not_found(client.safety_score)
        return
    with pytest.raises(ApiError) as raised:
        client.safety_score()
    assert raised.value.status_code == 404
    assert raised.value.detail == "No location data found"
