"""The city simulator against a real server: what its summary counts is what the server stored."""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime

import httpx
from typer.testing import CliRunner

from safesphere.cli import app
from safesphere.core.config import Settings
from safesphere.simulate import runner
from safesphere.simulate.city import DISTRICTS, PLACES, night_district
from safesphere.simulate.movement import Walker
from safesphere.simulate.telemetry import threat_cv_incident
from tests.factories import PASSWORD, Factory
from tests.support.live import LiveServer, settings_env


def test_a_seeded_run_stores_exactly_what_its_summary_counts(
    live_server: LiveServer, factory: Factory
) -> None:
    admin = factory.admin()
    options = runner.Options(
        base_url=live_server.url, tourists=3, cameras=3, rate=20, duration_s=3, seed=7,
        admin_email=admin.user.email, admin_password=PASSWORD,
    )  # fmt: skip

    summary = runner.run(options)

    reports = summary.stats.kinds["report"]
    total = summary.stats.total()
    assert total.sent == 60
    assert reports.sent > 0
    assert reports.rejected == 0 and reports.failed == 0 and summary.still_spooled == 0
    with httpx.Client(base_url=live_server.url, headers=admin.headers, timeout=10) as http:
        statistics = http.get("/statistics").json()["statistics"]
        places = http.get("/places", params={"limit": 1000}).json()
    assert statistics["total_incidents"] == reports.delivered
    night_out = any(tourist.night for tourist in summary.stage.tourists)
    districts = {DISTRICTS[0], night_district(datetime.now(UTC))} if night_out else {DISTRICTS[0]}
    assert summary.stage.places["created"] == len(PLACES) * len(districts) == len(places)
    assert len(summary.stage.cameras) == 3


def test_a_second_run_reuses_the_demo_places_and_accounts(live_server: LiveServer, factory: Factory) -> None:
    admin = factory.admin()
    options = runner.Options(
        base_url=live_server.url, tourists=2, cameras=1, rate=10, duration_s=1, seed=3,
        admin_email=admin.user.email, admin_password=PASSWORD,
    )  # fmt: skip
    first = runner.run(options)
    second = runner.run(options)

    assert second.stage.places["created"] == 0
    assert second.stage.places["reused"] == first.stage.places["created"]
    assert second.tourist_emails == first.tourist_emails


def test_without_an_admin_only_tourists_take_part(live_server: LiveServer) -> None:
    summary = runner.run(
        runner.Options(base_url=live_server.url, tourists=2, cameras=2, rate=10, duration_s=1)
    )

    assert summary.stats.kinds["report"].sent == 0
    assert summary.stats.total().sent == 10
    assert any("cameras need engine keys" in warning for warning in summary.stage.warnings)


def test_the_cli_prints_a_summary(live_server: LiveServer, factory: Factory) -> None:
    admin = factory.admin()
    result = CliRunner().invoke(
        app,
        ["simulate", "--url", live_server.url, "--tourists", "2", "--cameras", "1", "--rate", "5",
         "--duration", "1", "--admin-email", admin.user.email, "--admin-password", PASSWORD],
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    assert "Simulation summary" in result.output
    assert "threat reports" in result.output
    # The progress line ends on the summary's totals, not on those answered before the last send.
    [*_, (sent, accepted, rejected)] = re.findall(r"total\W+(\d+)\W+(\d+)\W+(\d+)", result.output)
    [*_, last_progress] = re.findall(r"accepted \d+ rejected \d+ .*? (\d+/\d+)", result.output)
    assert (
        re.findall(r"accepted \d+ rejected \d+", result.output)[-1]
        == f"accepted {accepted} rejected {rejected}"
    )
    assert last_progress == f"{sent}/5"


def test_the_cli_fails_clearly_for_a_wrong_admin_password(live_server: LiveServer, factory: Factory) -> None:
    admin = factory.admin()
    result = CliRunner().invoke(
        app,
        ["simulate", "--url", live_server.url, "--tourists", "1", "--duration", "1",
         "--admin-email", admin.user.email, "--admin-password", "wrong-password"],
    )  # fmt: skip

    assert result.exit_code == 1
    assert "admin login failed" in result.output


def test_the_same_seed_gives_the_same_walks_and_reports() -> None:
    def sample(seed: int) -> tuple[list[object], dict[str, object]]:
        rng = random.Random(seed)
        walker = Walker.start(rng, DISTRICTS[0], drifter=True)
        fixes: list[object] = [walker.advance(rng, 5.0) for _ in range(20)]
        at = datetime(2026, 2, 10, 14, 30, tzinfo=UTC)
        return fixes, threat_cv_incident(rng, level="CRITICAL", at=at, frame_id=1)

    assert sample(11) == sample(11)
    assert sample(11) != sample(12)


def test_a_walker_moves_at_a_plausible_speed() -> None:
    rng = random.Random(5)
    walker = Walker.start(rng, DISTRICTS[1], drifter=False)
    for _ in range(50):
        fix = walker.advance(rng, 10.0)
        assert 0 <= fix.speed < 15
        assert abs(fix.lat - DISTRICTS[1].centre[0]) < 0.05


def test_with_no_admin_options_the_cli_makes_a_demo_admin_and_a_whole_city(
    live_server: LiveServer, settings: Settings, factory: Factory
) -> None:
    """A fresh server has no admin: the command line makes one in the same database (never through
    HTTP) and says so; a second run reuses it."""
    command = ["simulate", "--url", live_server.url, "--tourists", "4", "--cameras", "2", "--rate", "5",
               "--duration", "1"]  # fmt: skip
    first = CliRunner().invoke(app, command, env=settings_env(settings))

    assert first.exit_code == 0, first.output
    assert "created the demo admin demo-admin@example.com" in first.output
    password_file = settings.data_dir / "demo_admin_password"
    assert password_file.stat().st_mode & 0o777 == 0o600
    assert password_file.read_text() not in first.output
    assert "engines: 2" in first.output
    assert "drifting into risky zones" in first.output
    officer = factory.authority()
    zones = factory.client.get("/zones", headers=officer.headers).json()
    assert len(zones) > 0
    assert f"zones: {len(zones)} created" in first.output

    second = CliRunner().invoke(app, command, env=settings_env(settings))
    assert second.exit_code == 0, second.output
    assert "Using the demo admin demo-admin@example.com" in second.output
    assert f"zones: 0 created, {len(zones)} reused" in second.output


def test_with_another_admin_and_no_admin_options_the_cli_says_what_to_pass(
    live_server: LiveServer, settings: Settings, factory: Factory
) -> None:
    factory.admin()
    result = CliRunner().invoke(
        app, ["simulate", "--url", live_server.url, "--tourists", "4", "--cameras", "1", "--duration", "1"],
        env=settings_env(settings),
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    assert "has admin accounts: pass --admin-email/--admin-password" in result.output
    assert "demo-admin@example.com" not in result.output
    assert "but no zones to drift into" in result.output
    assert not (settings.data_dir / "demo_admin_password").exists()
