"""Every operation of the OpenAPI schema, fuzzed as each role (issue 16, item 2): no answer is a 5xx,
every answer's status is documented, its media type and body match the schema."""

from __future__ import annotations

import re
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hypothesis
import pytest
import schemathesis
from fastapi import FastAPI
from schemathesis import checks
from schemathesis.config import SchemathesisConfig
from schemathesis.python import asgi
from schemathesis.specs.openapi import checks as openapi_checks

from safesphere.app import create_app
from safesphere.auth import service as auth_service
from safesphere.auth.models import Role
from safesphere.core.config import Settings
from safesphere.core.db import Database
from safesphere.core.security import TokenService
from tests.conftest import fresh_settings
from tests.support.live import ONE_CLIENT_UNLIMITED

CHECKS = [
    checks.not_a_server_error,
    openapi_checks.status_code_conformance,
    openapi_checks.response_schema_conformance,
    openapi_checks.content_type_conformance,
    openapi_checks.response_headers_conformance,
    openapi_checks.unsupported_method,
    openapi_checks.allow_header_conformance,
    openapi_checks.missing_required_header,
]
"""The answers' own checks. Not run: positive_data_acceptance and negative_data_rejection (see
docs/SECURITY.md: e-mail rules and bodies FastAPI reads leniently), and the checks that replay a case
outside our ASGI session (ignored_auth, use_after_free, ensure_resource_availability: they reach for a
host named testserver); tests/test_access.py proves every guarded route refuses missing credentials."""

FuzzCase = schemathesis.Case[Any]

DEVICE_WRITES = "^/(threats/report|location/update)$"


def _config(*, anonymous: bool) -> SchemathesisConfig:
    operations = [
        # Fair admission refuses an anonymous device write from its headers, 0.5 s later, without reading
        # the body (auth/admission.py): a few cases prove the documented 401; all boundaries cost minutes.
        {"include-path-regex": DEVICE_WRITES, "phases": {"coverage": {"enabled": False}}}
    ]
    return SchemathesisConfig.from_dict(
        {
            "generation": {
                "deterministic": True,
                # A role's own credentials are set by the test; the anonymous pass sends generated ones.
                "with-security-parameters": anonymous,
            },
            "phases": {"stateful": {"enabled": False}},
            # Not a latency check: on a loaded CI machine a large import can pass schemathesis' 10 s default.
            "request-timeout": 60,
            "operations": operations if anonymous else [],
        }
    )


def _openapi() -> dict[str, Any]:
    """The application's OpenAPI document (it does not depend on the database or the data directory)."""
    with tempfile.TemporaryDirectory() as data_dir:
        return create_app(Settings(data_dir=Path(data_dir), jwt_secret="s" * 32)).openapi()


DOCUMENT = _openapi()
GUARDED = "|".join(
    re.escape(f"{method.upper()} {path}")
    for path, operations in DOCUMENT["paths"].items()
    for method, operation in operations.items()
    if operation.get("security")
)
anonymous_schema = schemathesis.openapi.from_dict(DOCUMENT, config=_config(anonymous=True))
# Public operations do not read credentials: they are fuzzed once, anonymously.
schema = schemathesis.openapi.from_dict(DOCUMENT, config=_config(anonymous=False)).include(
    name_regex=f"^({GUARDED})$"
)


@dataclass
class Fuzz:
    """The application under test, its client, and one account (or engine key) per role, replaced when a
    case made it invalid (deleted, demoted, password changed, revoked)."""

    client: asgi.ASGIClient
    app: FastAPI
    credentials: dict[str, dict[str, str]] = field(default_factory=dict)
    requests: int = 0
    seconds: dict[str, float] = field(default_factory=dict)

    def headers(self, role: str) -> dict[str, str]:
        if role not in self.credentials:
            self.credentials[role] = self._new_credentials(role)
        return self.credentials[role]

    def _new_credentials(self, role: str) -> dict[str, str]:
        stamp = time.monotonic_ns()
        # The app's current state: schemathesis ends the lifespan after each test and the next request starts
        # it again (same settings, same database).
        database: Database = self.app.state.db
        tokens: TokenService = self.app.state.tokens
        with database.session() as session:
            if role == "engine":
                created = auth_service.create_engine_key(session=session, name=f"fuzz-{stamp}")
                return {"X-API-Key": created.key}
            user = auth_service.create_user(
                session=session, email=f"fuzz-{role}-{stamp}@example.com", password="x" * 12, role=Role(role)
            )
            user_id, user_role = user.id, user.role
        return {"Authorization": f"Bearer {tokens.issue(user_id=user_id, role=user_role)}"}

    def run(self, case: FuzzCase, role: str) -> None:
        headers = {} if role == "anonymous" else self.headers(role)
        self.requests += 1
        started = time.perf_counter()
        try:
            response = case.call_and_validate(headers=headers, session=self.client, checks=CHECKS)
        finally:
            label = f"{role} {case.operation.label}"
            self.seconds[label] = self.seconds.get(label, 0) + time.perf_counter() - started
        if role != "anonymous" and response.status_code == 401:
            self.credentials.pop(role, None)


@pytest.fixture(scope="module")
def fuzz(
    tmp_path_factory: pytest.TempPathFactory, migrated_template: str, request: pytest.FixtureRequest
) -> Iterator[Fuzz]:
    settings = fresh_settings(
        tmp_path_factory.mktemp("fuzz") / "data",
        migrated_template,
        request,
        # One key or tourist sends every case: its fair share would answer most of them 429.
        **ONE_CLIENT_UNLIMITED,
        # A live stream answers its hello and ends, instead of holding the pass for minutes.
        live_stream_s=0.2,
    )
    app = create_app(settings)
    # Entering the client starts the app's lifespan in schemathesis' event loop, where every case runs.
    with asgi.get_client(app) as client:  # type: ignore[arg-type]  # Starlette's ASGI types, not schemathesis'
        state = Fuzz(client=client, app=app)
        try:
            yield state
        finally:
            print(f"\nfuzz: {state.requests} requests")
            for label, seconds in sorted(state.seconds.items(), key=lambda item: -item[1])[:10]:
                print(f"{seconds:8.2f} {label}")
            asgi.shutdown_lifespans()


@anonymous_schema.parametrize()
@hypothesis.settings(max_examples=10)
def test_as_anonymous(case: FuzzCase, fuzz: Fuzz) -> None:
    fuzz.run(case, "anonymous")


@schema.parametrize()
@hypothesis.settings(max_examples=5)
def test_as_tourist(case: FuzzCase, fuzz: Fuzz) -> None:
    fuzz.run(case, "tourist")


@schema.parametrize()
@hypothesis.settings(max_examples=5)
def test_as_authority(case: FuzzCase, fuzz: Fuzz) -> None:
    fuzz.run(case, "authority")


@schema.parametrize()
@hypothesis.settings(max_examples=5)
def test_as_admin(case: FuzzCase, fuzz: Fuzz) -> None:
    fuzz.run(case, "admin")


@schema.parametrize()
@hypothesis.settings(max_examples=5)
def test_as_engine(case: FuzzCase, fuzz: Fuzz) -> None:
    fuzz.run(case, "engine")
