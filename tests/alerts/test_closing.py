"""Closing closes what it caused: resolving an incident (or calling it a false alarm) closes its safety
alert and the warnings it sent nearby tourists; police close SOS and anomaly alerts as false alarms too.
``/alerts``, nearby-risks and ``/metrics`` agree."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from safesphere.core import clock
from tests.factories import Account, Factory
from tests.tracking.fixtures import MINUTE, camera_sees_threat, send_fix

NOW = datetime(2026, 11, 20, 13, 0, tzinfo=UTC)


def _not_resolved(client: TestClient, admin: Account) -> dict[tuple[str, str], float]:
    response = client.get("/metrics", headers=admin.headers)
    assert response.status_code == 200, response.text
    return {
        (sample.labels["type"], sample.labels["status"]): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
        if sample.name == "safesphere_alerts_not_resolved"
    }


@pytest.mark.parametrize("outcome", ["resolved", "false_alarm"])
def test_closing_an_incident_closes_its_alert_and_warnings(
    client: TestClient, factory: Factory, outcome: str
) -> None:
    officer, admin, tourist = factory.authority(), factory.admin(), factory.tourist()
    with clock.frozen(NOW):
        send_fix(client, tourist, NOW)
        incident_id = camera_sees_threat(client, factory, NOW - MINUTE, level="CRITICAL")
        caused = client.get("/alerts", headers=officer.headers).json()
        assert sorted((a["type"], a["status"]) for a in caused) == [("incident", "open"), ("warning", "open")]
        assert {a["incident_id"] for a in caused} == {incident_id}
        assert (
            client.get("/location/nearby-risks", headers=tourist.headers).json()["risk_summary"][
                "total_alerts"
            ]
            == 1  # the incident; its warning is a copy, not shown again
        )
        assert _not_resolved(client, admin) == {("incident", "open"): 1, ("warning", "open"): 1}

        closed = client.post(
            f"/incidents/{incident_id}/resolve", json={"outcome": outcome}, headers=officer.headers
        )
        assert closed.status_code == 200, closed.text

        after = client.get("/alerts", headers=officer.headers).json()
        assert sorted((a["type"], a["status"]) for a in after) == [
            ("incident", outcome),
            ("warning", outcome),
        ]
        assert all(a["resolved_by"] == officer.user.id and a["resolved_at"] for a in after)
        assert client.get(f"/alerts?status={outcome}", headers=officer.headers).json() != []
        assert client.get("/alerts?status=open", headers=officer.headers).json() == []
        nearby = client.get("/location/nearby-risks", headers=tourist.headers).json()
        assert nearby["nearby_alerts"] == [] and nearby["risk_summary"]["total_alerts"] == 0
        assert _not_resolved(client, admin) == {}
        timeline = client.get(f"/incidents/{incident_id}/timeline", headers=officer.headers).json()
        closing = [e for e in timeline["entries"] if e["kind"] == "alerts_closed"]
        assert [(e["details"]["outcome"], e["details"]["count"]) for e in closing] == [(outcome, 2)]


def test_police_close_an_sos_as_a_false_alarm(client: TestClient, factory: Factory) -> None:
    officer, admin, tourist, other = (
        factory.authority(), factory.admin(), factory.tourist(), factory.tourist(),
    )  # fmt: skip
    with clock.frozen(NOW):
        send_fix(client, tourist, NOW)
        send_fix(client, other, NOW)
        sos = client.post("/sos", headers=tourist.headers).json()
        assert [
            a["type"]
            for a in client.get("/location/nearby-risks", headers=other.headers).json()["nearby_alerts"]
        ] == ["sos"]
        bad = client.post(
            f"/alerts/{sos['alert_id']}/resolve", json={"outcome": "open"}, headers=officer.headers
        )
        assert bad.status_code == 422 and "outcome" in bad.text
        closed = client.post(
            f"/alerts/{sos['alert_id']}/resolve",
            json={"outcome": "false_alarm", "notes": "pocket dial"},
            headers=officer.headers,
        )
        assert closed.status_code == 200, closed.text
        body = closed.json()
        assert (body["status"], body["resolution_notes"], body["resolved_by"]) == (
            "false_alarm", "pocket dial", officer.user.id,
        )  # fmt: skip
        again = client.post(f"/alerts/{sos['alert_id']}/resolve", headers=officer.headers)
        assert again.status_code == 409 and "false alarm" in again.text
        assert client.get("/location/nearby-risks", headers=other.headers).json()["nearby_alerts"] == []
        assert _not_resolved(client, admin) == {}
        listed = client.get("/alerts?status=false_alarm", headers=officer.headers).json()
        assert [a["alert_id"] for a in listed] == [sos["alert_id"]]
