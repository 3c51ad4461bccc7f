"""Every protocol step's result says what really happened (issue 14 item 6): messages queued to so many
recipients by named channels, ``no_recipients``, ``no_channel``, ``no location``, ``no police station
registered``, the device command; never "pending" for a message nobody will receive. Table-driven over every
step kind of the default protocol and the situations a new install meets, read back through
``GET /incidents/{id}``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.testclient import TestClient

from safesphere.incidents.step_results import MessageReach, step_result
from tests.factories import Account, Factory
from tests.incidents.reports import report_body

SPOT = (48.8566, 2.3522)
STATION = {"name": "Commissariat 4e", "kind": "police_station", "lat": SPOT[0] + 0.0036, "lon": SPOT[1]}
"""About 400 m north of the spot."""
ROUTE_TO_STATION = "Nearest police station 'Commissariat 4e': 0.4 km north, about 5 min on foot"
CHANNELS = [
    {"name": "city-dispatch", "kind": "webhook", "config": {"url": "https://dispatch.example.org/hook"},
     "roles": ["police"]},
    {"name": "city-email", "kind": "email", "config": {"host": "smtp.example.org"},
     "roles": ["contacts_email", "user"]},
    {"name": "city-sms", "kind": "sms", "config": {"url": "https://sms.example.org/send"},
     "roles": ["contacts_sms"]},
]  # fmt: skip
ANA = {"name": "Ana", "relation": "sister", "phone": "+33600000001", "email": "ana@example.com"}
BEN = {"name": "Ben", "relation": "friend", "phone": "+33600000002"}
LEVELS = ("LOW", "MEDIUM", "HIGH", "CRITICAL")

STEPS: dict[str, tuple[tuple[str, ...], str | None]] = {
    "log_incident": ((), None),
    "start_recording": ((), "start_recording"),
    "alert_user": (("user",), None),
    "notify_police": (("police_dispatch",), None),
    "notify_emergency_contacts": (("emergency_contacts",), None),
    "share_live_location": (("emergency_contacts",), "stream_location"),
    "police_dispatch": (("police_dispatch",), None),
    "continuous_recording_360": ((), "start_recording"),
    "live_location_streaming": (("emergency_contacts",), "stream_location"),
    "voice_alerts": ((), "voice_alert"),
    "safe_route": (("user",), None),
    "notify_all_emergency_contacts": (("emergency_contacts",), None),
    "armed_threat_escalation": (("police_dispatch",), None),
}
"""Each step kind of the default protocol: who its messages are for, and the device command it becomes."""


@dataclass(frozen=True)
class Situation:
    owner: bool = True
    contacts: tuple[dict[str, str], ...] = (ANA, BEN)
    channels: tuple[str, ...] = ("city-dispatch", "city-email", "city-sms")
    located: bool = True
    station: bool = True
    said: dict[str, str] = field(default_factory=dict)
    """What each recipient kind's message part says."""
    route: str = ROUTE_TO_STATION


SITUATIONS = {
    "everything configured": Situation(said={
        "police_dispatch": "police_dispatch: queued to 1 recipient by city-dispatch",
        "emergency_contacts": "emergency_contacts: queued to 2 recipients by city-email, city-sms",
        "user": "user: queued to 1 recipient by city-email",
    }),
    "no contacts": Situation(contacts=(), said={
        "police_dispatch": "police_dispatch: queued to 1 recipient by city-dispatch",
        "emergency_contacts": "emergency_contacts: no_recipients",
        "user": "user: queued to 1 recipient by city-email",
    }),
    "no owner": Situation(owner=False, said={
        "police_dispatch": "police_dispatch: queued to 1 recipient by city-dispatch",
        "emergency_contacts": "emergency_contacts: no_recipients",
        "user": "user: no_recipients",
    }),
    "no channel configured": Situation(channels=(), said={
        "police_dispatch": "police_dispatch: no_channel (server log only, 1 recipient)",
        "emergency_contacts": "emergency_contacts: no_channel (server log only, 2 recipients)",
        "user": "user: no_channel (server log only, 1 recipient)",
    }),
    "no SMS channel": Situation(channels=("city-dispatch", "city-email"), said={
        "police_dispatch": "police_dispatch: queued to 1 recipient by city-dispatch",
        "emergency_contacts": "emergency_contacts: queued to 1 recipient by city-email; "
                              "no_channel for 1 recipient (server log only)",
        "user": "user: queued to 1 recipient by city-email",
    }),
    "unlocated report": Situation(
        located=False,
        route="no location: neither the threat nor its owner has a place to route from",
        said={
            "police_dispatch": "police_dispatch: queued to 1 recipient by city-dispatch",
            "emergency_contacts": "emergency_contacts: queued to 2 recipients by city-email, city-sms",
            "user": "user: queued to 1 recipient by city-email",
        },
    ),
    "no police station": Situation(station=False, route="no police station registered", said={
        "police_dispatch": "police_dispatch: queued to 1 recipient by city-dispatch",
        "emergency_contacts": "emergency_contacts: queued to 2 recipients by city-email, city-sms",
        "user": "user: queued to 1 recipient by city-email",
    }),
}  # fmt: skip


def _expected(step: str, situation: Situation) -> str:
    recipients, command = STEPS[step]
    parts = [situation.route] if step == "safe_route" else []
    parts += [situation.said[kind] for kind in recipients]
    if recipients and not situation.located and step != "safe_route":
        parts.append("no location")
    if command:
        parts.append(f"device: {command} queued")
    return "; ".join(parts) or "recorded"


def _arrange(client: TestClient, factory: Factory, situation: Situation) -> tuple[Account, dict[str, str]]:
    """The officer reading the incidents, and the reporting key's headers."""
    admin, officer = factory.admin(), factory.authority()
    for channel in CHANNELS:
        if channel["name"] in situation.channels:
            assert client.post("/admin/channels", json=channel, headers=admin.headers).status_code == 201
    if situation.station:
        assert client.post("/places", json=STATION, headers=officer.headers).status_code == 201
    owner = factory.tourist() if situation.owner else None
    for contact in situation.contacts if owner else ():
        assert owner is not None
        assert client.post("/me/contacts", json=contact, headers=owner.headers).status_code == 201
    where: dict[str, Any] = {"latitude": SPOT[0], "longitude": SPOT[1]} if situation.located else {}
    return officer, factory.engine_key(owner=owner, **where).headers


def _report(client: TestClient, headers: dict[str, str], level: str, **fields: Any) -> dict[str, Any]:
    body = report_body(threat_level=level, is_critical=level == "CRITICAL", **fields)
    response = client.post("/threats/report", json=body, headers=headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


@pytest.mark.parametrize("name", list(SITUATIONS))
def test_every_step_result_names_what_happened(client: TestClient, factory: Factory, name: str) -> None:
    situation = SITUATIONS[name]
    officer, key = _arrange(client, factory, situation)
    seen: set[str] = set()
    for level in LEVELS:
        answered = _report(client, key, level)
        stored = client.get(f"/incidents/{answered['incident_id']}", headers=officer.headers).json()
        results = {a["action_type"]: a["result"] for a in stored["actions"]}
        assert results == {step: _expected(step, situation) for step in results}, level
        assert {a["action_type"]: a["result"] for a in answered["actions"]} == results
        assert not any("pending" in result for result in results.values())
        seen |= set(results)
    assert seen == set(STEPS)  # every step kind of the protocol was checked


def test_a_step_run_for_an_open_incident_says_what_happened_there(
    client: TestClient, factory: Factory
) -> None:
    """A grouped HIGH -> CRITICAL repeat runs the CRITICAL steps for the open incident; the repeat's record
    and the open incident's steps say what they did, not "pending"."""
    situation = SITUATIONS["no contacts"]
    officer, key = _arrange(client, factory, situation)
    first = _report(client, key, "HIGH", weapon_detected=False, weapon_types=[])
    repeat = _report(client, key, "CRITICAL", grouped_into=first["incident_id"])
    assert repeat["grouping"] == "escalated"

    case = client.get(f"/incidents/{first['incident_id']}", headers=officer.headers).json()
    ran = [a for a in case["actions"] if a["action_type"] in {"police_dispatch", "armed_threat_escalation"}]
    assert [a["result"] for a in ran] == [_expected(a["action_type"], situation) for a in ran] != []
    own = {a["action_type"]: a["result"] for a in repeat["actions"]}
    police = "police_dispatch: queued to 1 recipient by city-dispatch"
    assert own["police_dispatch"] == f"run for open incident {first['incident_id']}: {police}"
    assert own["notify_all_emergency_contacts"].endswith("emergency_contacts: no_recipients")
    assert not any("pending" in (a["result"] or "") for a in [*case["actions"], *repeat["actions"]])


def test_a_step_without_a_device_says_so() -> None:
    """An incident whose engine key is gone has no device to command (not reachable by a report)."""
    result = step_result(
        messages=[MessageReach("emergency_contacts", (("log",), ("city-sms",)))],
        located=True, command="stream_location", has_device=False,
    )  # fmt: skip
    assert result == (
        "emergency_contacts: queued to 1 recipient by city-sms; "
        "no_channel for 1 recipient (server log only); no device: the incident has no reporting engine key"
    )
