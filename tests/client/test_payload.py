"""The bytes the SDK sends: the engine's dict made JSON-safe, with id and timestamp fixed up front."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from enum import Enum

import numpy as np
import pytest

from safesphere.client.endpoint import parse_base_url
from safesphere.client.payload import json_safe, new_incident_id, prepare_incident

ENGINE_ID = re.compile(r"^INC_\d{8}_\d{6}_\d{3}_[0-9a-f]{4}$")


class Level(Enum):
    HIGH = "HIGH"


def test_a_new_incident_id_has_the_engines_format() -> None:
    made = new_incident_id(datetime(2026, 2, 10, 14, 30, 45, 123_456, tzinfo=UTC))
    assert made.startswith("INC_20260210_143045_123_")
    assert ENGINE_ID.match(made)
    assert new_incident_id() != new_incident_id()


def test_numpy_values_datetimes_and_enums_become_json() -> None:
    telemetry = {
        "score": np.float32(0.5),
        "count": np.int64(3),
        "flag": np.bool_(True),
        "box": np.array([1, 2, 3, 4]),
        "seen": datetime(2026, 2, 10, 14, 30, tzinfo=UTC),
        "level": Level.HIGH,
        "pair": (1, 2),
        "nan": float("nan"),
        "inf": np.float64("inf"),
    }
    assert json_safe(telemetry) == {
        "score": 0.5,
        "count": 3,
        "flag": True,
        "box": [1, 2, 3, 4],
        "seen": "2026-02-10T14:30:00+00:00",
        "level": "HIGH",
        "pair": [1, 2],
        "nan": None,
        "inf": None,
    }


def test_an_unserialisable_value_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="object"):
        json_safe({"frame": object()})


def test_prepare_fills_id_and_timestamp_once_and_leaves_the_callers_dict_alone() -> None:
    incident = {"threat_level": "HIGH", "threat_score": 0.7, "behavior_summary": "Following 🚶"}
    incident_id, body = prepare_incident(incident)

    sent = json.loads(body)
    assert ENGINE_ID.match(incident_id)
    assert sent["incident_id"] == incident_id
    assert datetime.fromisoformat(sent["timestamp"]).tzinfo is not None
    assert sent["behavior_summary"] == "Following 🚶"
    assert incident == {"threat_level": "HIGH", "threat_score": 0.7, "behavior_summary": "Following 🚶"}


def test_prepare_keeps_the_engines_own_id_and_timestamp() -> None:
    incident = {"incident_id": "INC_20260210_143045_001", "timestamp": "2026-02-10T14:30:45.123"}
    incident_id, body = prepare_incident(incident)
    assert incident_id == "INC_20260210_143045_001"
    assert json.loads(body)["timestamp"] == "2026-02-10T14:30:45.123"


@pytest.mark.parametrize("bad", [["not", "a", "dict"], "INC_1"])
def test_prepare_refuses_what_is_not_an_incident(bad: object) -> None:
    with pytest.raises(TypeError):
        prepare_incident(bad)  # type: ignore[arg-type]


def test_prepare_refuses_a_non_string_id() -> None:
    with pytest.raises(TypeError, match="incident_id"):
        prepare_incident({"incident_id": 42})


def test_a_key_in_the_base_url_is_taken_out_of_the_url() -> None:
    endpoint = parse_base_url("http://cam-01:ssk_abc%2Fdef@10.0.0.5:8000/")
    assert endpoint.base_url == "http://10.0.0.5:8000"
    assert endpoint.api_key == "ssk_abc/def"


def test_an_explicit_key_wins_over_the_url() -> None:
    endpoint = parse_base_url("https://cam:ssk_in_url@safesphere.example/api", "ssk_explicit")
    assert endpoint == parse_base_url("https://safesphere.example/api/", "ssk_explicit")
    assert endpoint.base_url == "https://safesphere.example/api"


@pytest.mark.parametrize("bad", ["ftp://host", "localhost:8000", "http://"])
def test_a_base_url_must_be_http_with_a_host(bad: str) -> None:
    with pytest.raises(ValueError, match="base_url"):
        parse_base_url(bad)
