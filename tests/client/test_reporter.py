"""ThreatReporter against a real server: delivery, the offline spool, retries, rejections, threads."""

from __future__ import annotations

import io
import threading
from collections.abc import Callable
from pathlib import Path

from PIL import Image

from safesphere.client import Outcome, ThreatReporter
from tests.client.conftest import ServerView, engine_incident, eventually
from tests.factories import EngineCredentials
from tests.support.live import LiveServer

Reporter = Callable[..., ThreatReporter]


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_the_engines_payload_is_delivered_and_stored_whole(
    make_reporter: Reporter, server_view: ServerView
) -> None:
    incident = engine_incident(level="CRITICAL", weapon_detected=True, weapon_types=["gun", "gun"])
    result = make_reporter().report(incident)

    assert result.outcome is Outcome.delivered
    assert result.status_code == 200
    assert result.response is not None
    assert result.response["success"] is True
    assert result.response["action_taken"] == "EMERGENCY_PROTOCOL"
    stored = server_view.incident(incident["incident_id"])
    assert stored is not None
    assert stored["threat_level"] == "CRITICAL"
    assert stored["weapon_types"] == ["gun", "gun"]
    assert stored["full_telemetry"] == incident["full_telemetry"]


def test_a_base_url_with_the_key_as_password_authenticates(
    live_server: LiveServer, engine: EngineCredentials, make_reporter: Reporter, server_view: ServerView
) -> None:
    url_with_key = live_server.url.replace("http://", f"http://{engine.name}:{engine.key}@")
    result = make_reporter(base_url=url_with_key, api_key=None).report(engine_incident())

    assert result.delivered
    assert server_view.incident(result.incident_id) is not None


def test_a_missing_incident_id_and_timestamp_are_made_before_sending(
    make_reporter: Reporter, server_view: ServerView
) -> None:
    incident = engine_incident()
    del incident["incident_id"], incident["timestamp"]
    result = make_reporter().report(incident)

    assert result.delivered
    assert result.incident_id.startswith("INC_")
    assert result.response is not None and result.response["incident_id"] == result.incident_id
    assert server_view.incident(result.incident_id) is not None
    assert "incident_id" not in incident  # the caller's dict is left alone


def test_reporting_the_same_incident_twice_stores_it_once(
    make_reporter: Reporter, server_view: ServerView
) -> None:
    reporter = make_reporter()
    incident = engine_incident()
    first, second = reporter.report(incident), reporter.report(incident)

    assert first.delivered and second.delivered
    assert first.response == second.response
    assert server_view.total_incidents() == 1


def test_an_incident_reported_while_the_server_is_down_arrives_once_when_it_is_back(
    live_server: LiveServer, make_reporter: Reporter, server_view: ServerView
) -> None:
    reporter = make_reporter()
    live_server.kill()
    incident = engine_incident(level="HIGH")

    result = reporter.report(incident)

    assert result.outcome is Outcome.spooled
    assert result.incident_id == incident["incident_id"]
    assert reporter.pending() == 1
    live_server.start()
    eventually(lambda: reporter.pending() == 0)
    stored = server_view.incident(incident["incident_id"])
    assert stored is not None and stored["threat_level"] == "HIGH"
    assert server_view.total_incidents() == 1


def test_a_client_error_is_reported_and_not_retried(make_reporter: Reporter, server_view: ServerView) -> None:
    reporter = make_reporter()
    incident = engine_incident(threat_level="APOCALYPTIC")

    result = reporter.report(incident)

    assert result.outcome is Outcome.rejected
    assert result.status_code == 422
    assert any(error["loc"][-1] == "threat_level" for error in result.detail)
    assert reporter.pending() == 0
    assert reporter.flush() == 0
    assert server_view.total_incidents() == 0


def test_a_wrong_key_is_rejected_not_spooled(make_reporter: Reporter, server_view: ServerView) -> None:
    reporter = make_reporter(api_key="ssk_not-a-real-key")

    result = reporter.report(engine_incident())

    assert result.rejected
    assert result.status_code == 401
    assert result.detail == "Not authenticated"
    assert reporter.pending() == 0
    assert server_view.total_incidents() == 0


def test_the_same_id_with_a_different_body_is_a_conflict(make_reporter: Reporter) -> None:
    reporter = make_reporter()
    incident = engine_incident()
    assert reporter.report(incident).delivered

    result = reporter.report({**incident, "threat_score": 0.12})

    assert result.rejected
    assert result.status_code == 409


def test_the_spool_survives_a_reporter_restart(
    live_server: LiveServer, make_reporter: Reporter, server_view: ServerView, tmp_path: Path
) -> None:
    live_server.kill()
    first = make_reporter()
    incidents = [engine_incident(seed) for seed in range(3)]
    assert all(first.report(incident).spooled for incident in incidents)
    assert first.upload_screenshot(incidents[0]["incident_id"], png_bytes(), filename="frame.png").spooled
    first.close()

    live_server.start()
    second = make_reporter()
    eventually(lambda: second.pending() == 0)

    assert server_view.total_incidents() == 3
    assert all(server_view.incident(incident["incident_id"]) is not None for incident in incidents)
    assert len(server_view.evidence(incidents[0]["incident_id"])) == 1
    assert second.rejections() == []


def test_many_threads_reporting_through_a_server_crash_deliver_every_incident_once(
    live_server: LiveServer, make_reporter: Reporter, server_view: ServerView
) -> None:
    reporter = make_reporter()
    threads_count, per_thread = 8, 15
    total = threads_count * per_thread
    done: list[str] = []
    outcomes: list[Outcome] = []
    lock = threading.Lock()

    def engine_loop(thread_index: int) -> None:
        for n in range(per_thread):
            result = reporter.report(engine_incident(thread_index * 1000 + n, level="HIGH"))
            with lock:
                done.append(result.incident_id)
                outcomes.append(result.outcome)

    threads = [threading.Thread(target=engine_loop, args=(index,)) for index in range(threads_count)]
    for thread in threads:
        thread.start()
    eventually(lambda: len(done) >= total // 3)
    live_server.kill()
    eventually(lambda: len(done) >= 2 * total // 3)
    live_server.start()
    for thread in threads:
        thread.join()

    assert len(set(done)) == total
    assert Outcome.rejected not in outcomes
    assert Outcome.spooled in outcomes and Outcome.delivered in outcomes
    eventually(lambda: reporter.pending() == 0)
    assert server_view.total_incidents() == total
    assert all(server_view.incident(incident_id) is not None for incident_id in done)


def test_a_screenshot_is_uploaded_as_evidence(make_reporter: Reporter, server_view: ServerView) -> None:
    reporter = make_reporter()
    incident_id = reporter.report(engine_incident()).incident_id

    result = reporter.upload_screenshot(incident_id, png_bytes(), filename="frame.png")

    assert result.delivered
    assert result.response is not None and result.response["incident_id"] == incident_id
    assert len(server_view.evidence(incident_id)) == 1


def test_a_screenshot_from_a_file_path_is_uploaded(
    make_reporter: Reporter, server_view: ServerView, tmp_path: Path
) -> None:
    reporter = make_reporter()
    incident_id = reporter.report(engine_incident()).incident_id
    path = tmp_path / "frame.png"
    path.write_bytes(png_bytes())

    assert reporter.upload_screenshot(incident_id, path).delivered
    assert len(server_view.evidence(incident_id)) == 1


def test_a_screenshot_that_is_not_an_image_is_rejected(
    make_reporter: Reporter, server_view: ServerView
) -> None:
    reporter = make_reporter()
    incident_id = reporter.report(engine_incident()).incident_id

    result = reporter.upload_screenshot(incident_id, b"#!/bin/sh\necho not an image\n", filename="frame.jpg")

    assert result.rejected
    assert result.status_code == 415
    assert reporter.pending() == 0
    assert server_view.evidence(incident_id) == []


def test_a_screenshot_for_an_unknown_incident_is_rejected(make_reporter: Reporter) -> None:
    result = make_reporter().upload_screenshot("INC_20260101_000000_000_beef", png_bytes())

    assert result.rejected
    assert result.status_code == 404


def test_a_spooled_incident_later_refused_is_kept_as_a_rejection(
    live_server: LiveServer, make_reporter: Reporter, server_view: ServerView
) -> None:
    reporter = make_reporter()
    live_server.kill()
    incident = engine_incident(threat_level="SEVERE")
    assert reporter.report(incident).spooled

    live_server.start()
    eventually(lambda: reporter.pending() == 0)

    [rejection] = reporter.rejections()
    assert rejection.incident_id == incident["incident_id"]
    assert rejection.status_code == 422
    assert "threat_level" in rejection.detail
    assert server_view.total_incidents() == 0


def test_health_says_whether_the_server_answers(live_server: LiveServer, make_reporter: Reporter) -> None:
    reporter = make_reporter()
    healthy = reporter.health()
    assert healthy.healthy
    assert healthy.response is not None and healthy.response["service"] == "SafeSphere Threat Management API"

    live_server.kill()
    down = reporter.health()
    assert not down.healthy
    assert down.status_code is None
    assert down.detail is not None and "Connect" in down.detail
