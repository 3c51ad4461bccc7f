"""Every malformed report gets a 422 naming the field, and stores nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from safesphere.core.db import Database
from tests.factories import Factory
from tests.incidents.reports import NOTHING_STORED, report_body, stored_counts

TELEMETRY_CAP = 2048


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"max_telemetry_bytes": TELEMETRY_CAP}


def _telemetry_of_size(size: int) -> dict[str, Any]:
    """A telemetry object whose compact JSON encoding is exactly ``size`` bytes."""
    skeleton = len(json.dumps({"frames": ""}, separators=(",", ":")).encode())
    return {"frames": "é" * ((size - skeleton) // 2) + "x" * ((size - skeleton) % 2)}


def _nested(depth: int) -> dict[str, Any]:
    """Telemetry with ``depth`` levels of nesting, counting the top-level object."""
    telemetry: dict[str, Any] = {"leaf": 1}
    for _ in range(depth - 2):
        telemetry = {"a": telemetry}
    return telemetry


BAD_FIELDS: list[tuple[str, dict[str, Any], list[str | int]]] = [
    ("score as a string", {"threat_score": "0.87"}, ["body", "threat_score"]),
    ("score above 1", {"threat_score": 1.01}, ["body", "threat_score"]),
    ("score below 0", {"threat_score": -0.1}, ["body", "threat_score"]),
    ("score as a boolean", {"threat_score": True}, ["body", "threat_score"]),
    ("unknown level", {"threat_level": "SEVERE"}, ["body", "threat_level"]),
    ("lower-case level", {"threat_level": "critical"}, ["body", "threat_level"]),
    ("missing level", {"threat_level": None}, ["body", "threat_level"]),
    ("people as a string", {"people_count": "2"}, ["body", "people_count"]),
    ("people negative", {"people_count": -1}, ["body", "people_count"]),
    ("people absurd", {"people_count": 10**30}, ["body", "people_count"]),
    ("weapon flag as a word", {"weapon_detected": "yes"}, ["body", "weapon_detected"]),
    ("weapon types as a string", {"weapon_types": "gun"}, ["body", "weapon_types"]),
    ("weapon type as a number", {"weapon_types": [1]}, ["body", "weapon_types", 0]),
    ("too many weapon types", {"weapon_types": ["gun"] * 33}, ["body", "weapon_types"]),
    ("summary as a number", {"behavior_summary": 5}, ["body", "behavior_summary"]),
    ("summary with a NUL", {"behavior_summary": "a\x00b"}, ["body", "behavior_summary"]),
    ("telemetry as a list", {"full_telemetry": [1, 2]}, ["body", "full_telemetry"]),
    ("telemetry with a NUL", {"full_telemetry": {"note": "a\x00"}}, ["body", "full_telemetry"]),
    ("telemetry key with a NUL", {"full_telemetry": {"a\x00": 1}}, ["body", "full_telemetry"]),
    ("telemetry nested too deep", {"full_telemetry": _nested(33)}, ["body", "full_telemetry"]),
    (
        "telemetry over the cap",
        {"full_telemetry": _telemetry_of_size(TELEMETRY_CAP + 1)},
        ["body", "full_telemetry"],
    ),
    ("timestamp not a time", {"timestamp": "yesterday"}, ["body", "timestamp"]),
    ("timestamp at the end of time", {"timestamp": "9999-12-31T23:59:59+01:00"}, ["body", "timestamp"]),
    ("latitude out of range", {"latitude": 91, "longitude": 0}, ["body", "latitude"]),
    ("longitude out of range", {"latitude": 0, "longitude": -181}, ["body", "longitude"]),
    ("latitude without longitude", {"latitude": 10.0}, ["body", "longitude"]),
    ("longitude without latitude", {"longitude": 10.0}, ["body", "latitude"]),
    ("negative accuracy", {"location_accuracy_m": -1}, ["body", "location_accuracy_m"]),
    ("id climbing directories", {"incident_id": "../x"}, ["body", "incident_id"]),
    ("id with a slash", {"incident_id": "a/b"}, ["body", "incident_id"]),
    ("id with a backslash", {"incident_id": "a\\b"}, ["body", "incident_id"]),
    ("id with a double dot", {"incident_id": "INC..1"}, ["body", "incident_id"]),
    ("id starting with a dot", {"incident_id": ".hidden"}, ["body", "incident_id"]),
    ("id with a space", {"incident_id": "INC 1"}, ["body", "incident_id"]),
    ("empty id", {"incident_id": ""}, ["body", "incident_id"]),
    ("id too long", {"incident_id": "I" * 65}, ["body", "incident_id"]),
    ("id as a number", {"incident_id": 12}, ["body", "incident_id"]),
]


@pytest.mark.parametrize(("case", "change", "loc"), BAD_FIELDS, ids=[c for c, _, _ in BAD_FIELDS])
def test_a_bad_field_is_named_and_nothing_is_stored(
    client: TestClient,
    factory: Factory,
    db: Database,
    case: str,
    change: dict[str, Any],
    loc: list[str | int],
) -> None:
    engine = factory.engine_key()
    body = {k: v for k, v in {**report_body(), **change}.items() if v is not None}
    response = client.post("/threats/report", json=body, headers=engine.headers)

    assert response.status_code == 422, (case, response.text)
    assert loc in [error["loc"] for error in response.json()["detail"]], response.json()
    assert stored_counts(db) == NOTHING_STORED


@pytest.mark.parametrize(
    "telemetry", [_telemetry_of_size(TELEMETRY_CAP), _nested(32), {"path": "C:\\u0000\\x", "s": "✓ 🏃"}]
)
def test_telemetry_at_the_limits_is_accepted_whole(
    client: TestClient, factory: Factory, db: Database, telemetry: dict[str, Any]
) -> None:
    engine = factory.engine_key()
    body = report_body(full_telemetry=telemetry)
    response = client.post("/threats/report", json=body, headers=engine.headers)
    assert response.status_code == 200, response.text
    assert stored_counts(db)["incidents"] == 1
    detail = client.get(f"/incidents/{body['incident_id']}", headers=factory.authority().headers)
    assert detail.json()["full_telemetry"] == telemetry


MINIMAL = '"threat_level": "LOW", "threat_score": 0.1'
RAW_BODIES: list[tuple[str, bytes, list[str | int]]] = [
    ("truncated JSON", b'{"threat_level": "LOW", "threat_score": 0.1', ["body", 43]),
    ("not JSON at all", b"threat_level=LOW", ["body", 0]),
    ("NaN score", b'{"threat_level": "LOW", "threat_score": NaN}', ["body", "threat_score"]),
    ("NaN people count", f'{{{MINIMAL}, "people_count": NaN}}'.encode(), ["body", "people_count"]),
    ("telemetry nested 500 deep", ("{" + MINIMAL + ', "full_telemetry": ' + '{"a":' * 500 + "1" + "}" * 501)
     .encode(), ["body", "full_telemetry"]),
    ("NaN in telemetry", f'{{{MINIMAL}, "full_telemetry": {{"x": NaN}}}}'.encode(),
     ["body", "full_telemetry"]),
    ("lone surrogate in the summary", f'{{{MINIMAL}, "behavior_summary": "a\\ud800"}}'.encode(),
     ["body", "behavior_summary"]),
    ("lone surrogate in telemetry", f'{{{MINIMAL}, "full_telemetry": {{"\\udfff": 1}}}}'.encode(),
     ["body", "full_telemetry"]),
    ("a list instead of an object", b"[1, 2, 3]", ["body"]),
]  # fmt: skip


@pytest.mark.parametrize(("case", "raw", "loc"), RAW_BODIES, ids=[c for c, _, _ in RAW_BODIES])
def test_a_malformed_body_is_refused_and_nothing_is_stored(
    client: TestClient, factory: Factory, db: Database, case: str, raw: bytes, loc: list[str | int]
) -> None:
    engine = factory.engine_key()
    headers = {**engine.headers, "Content-Type": "application/json"}
    response = client.post("/threats/report", content=raw, headers=headers)

    assert response.status_code == 422, (case, response.text)
    assert loc in [error["loc"] for error in response.json()["detail"]], response.json()
    assert stored_counts(db) == NOTHING_STORED


@pytest.mark.parametrize(
    ("query", "loc"),
    [
        ("limit=1001", ["query", "limit"]),
        ("limit=0", ["query", "limit"]),
        (f"limit={10**30}", ["query", "limit"]),
        ("limit=ten", ["query", "limit"]),
        ("offset=-1", ["query", "offset"]),
        (f"offset={10**20}", ["query", "offset"]),
        ("threat_level=SEVERE", ["query", "threat_level"]),
        ("status=../x", ["query", "status"]),
        ("since=yesterday", ["query", "since"]),
        ("since=2026-02-10T12:00:00Z&until=2026-02-10T11:00:00Z", ["query", "until"]),
    ],
)
def test_bad_list_parameters_are_named(
    client: TestClient, factory: Factory, query: str, loc: list[str]
) -> None:
    authority = factory.authority()
    response = client.get(f"/incidents?{query}", headers=authority.headers)
    assert response.status_code == 422, response.text
    assert loc in [error["loc"] for error in response.json()["detail"]]


@pytest.mark.parametrize("limit", ["1001", str(10**30), "0"])
def test_a_huge_limit_by_level_is_refused(client: TestClient, factory: Factory, limit: str) -> None:
    authority = factory.authority()
    response = client.get(f"/incidents/threat_level/HIGH?limit={limit}", headers=authority.headers)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "limit"]


@pytest.mark.parametrize("incident_id", ["..x", "a..b", ".x", "x" * 65, "a%20b", "a%5Cb", "a%00b"])
def test_path_like_ids_in_urls_are_named(client: TestClient, factory: Factory, incident_id: str) -> None:
    authority = factory.authority()
    for url in (f"/incidents/{incident_id}", f"/incidents/{incident_id}/evidence"):
        response = client.get(url, headers=authority.headers)
        assert response.status_code == 422, (url, response.text)
        assert response.json()["detail"][0]["loc"] == ["path", "incident_id"]


@pytest.mark.parametrize("incident_id", ["..", "a%2Fb", "..%2Fx"])
def test_ids_with_separators_never_reach_an_incident_route(
    client: TestClient, factory: Factory, incident_id: str
) -> None:
    authority = factory.authority()
    for url in (f"/incidents/{incident_id}", f"/incidents/{incident_id}/evidence"):
        response = client.get(url, headers=authority.headers)
        assert response.status_code == 404, url
        assert response.json() == {"detail": "Not Found"}
