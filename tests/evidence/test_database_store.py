"""Evidence kept in the database (``SAFESPHERE_EVIDENCE_STORE=database``): downloaded byte for byte with
the SHA-256 recorded at upload, by any instance (each with a data directory of its own); no file is left
on disk; retention deletes the bytes with their incident unless it is on legal hold; a SQLite backup
carries them."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from safesphere.app import create_app
from safesphere.core import clock
from safesphere.core.backup import back_up
from safesphere.core.config import Settings
from safesphere.core.db import Database
from safesphere.evidence.models import EvidenceChunk
from safesphere.retention.service import purge
from tests.evidence.test_screenshots import image_bytes
from tests.factories import EngineCredentials, Factory
from tests.incidents.reports import report_body
from tests.retention.test_retention import LONG_AGO, NOW, _incident
from tests.support.live import LiveServer

DATABASE_STORE: dict[str, object] = {
    "evidence_store": "database",
    "retention_fix_days": 90,
    "retention_closed_days": 365,
}


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return DATABASE_STORE


@pytest.fixture(scope="module")
def screenshot() -> bytes:
    """An incompressible PNG of about 1.3 MB: more than one 1 MiB piece."""
    return image_bytes("PNG", (700, 600), noise=True)


def _upload(
    url: str | TestClient, engine: EngineCredentials, incident_id: str, content: bytes
) -> dict[str, Any]:
    files = {"file": ("shot.png", content, "image/png")}
    data = {"incident_id": incident_id}
    if isinstance(url, TestClient):
        answer = url.post("/upload/screenshot", data=data, files=files, headers=engine.headers)
    else:
        answer = httpx.post(f"{url}/upload/screenshot", data=data, files=files, headers=engine.headers)
    assert answer.status_code == 200, answer.text
    assert answer.json()["path"].startswith(f"database:{incident_id}/")
    return dict(answer.json()["evidence"])


def _report(client: TestClient, engine: EngineCredentials) -> str:
    body = report_body()
    assert client.post("/threats/report", json=body, headers=engine.headers).status_code == 200
    return str(body["incident_id"])


def _pieces(db: Database) -> int:
    with db.read_session() as session:
        return session.scalar(sa.select(sa.func.count()).select_from(EvidenceChunk)) or 0


def _files(directory: Path) -> list[Path]:
    return [path for path in directory.rglob("*") if path.is_file()] if directory.exists() else []


def _downloaded(answer: httpx.Response, content: bytes) -> None:
    assert answer.status_code == 200, answer.text
    assert answer.content == content
    assert answer.headers["x-evidence-sha256"] == hashlib.sha256(content).hexdigest()
    assert answer.headers["content-type"] == "image/png"


def test_evidence_in_the_database_comes_back_byte_for_byte_with_its_digest(
    client: TestClient, factory: Factory, db: Database, settings: Settings, screenshot: bytes
) -> None:
    engine, officer = factory.engine_key(), factory.authority()
    evidence = _upload(client, engine, _report(client, engine), screenshot)

    assert evidence["sha256"] == hashlib.sha256(screenshot).hexdigest()
    assert _pieces(db) == 2
    assert _files(settings.evidence_dir) == []  # nothing on this host's disk
    _downloaded(client.get(evidence["url"], headers=officer.headers), screenshot)


def test_retention_deletes_database_evidence_with_its_incident_unless_held(
    client: TestClient, factory: Factory, db: Database, settings: Settings
) -> None:
    held = _incident(client, factory, at=LONG_AGO, resolve=True, evidence=True)
    _incident(client, factory, at=LONG_AGO, resolve=True, evidence=True)
    admin = factory.admin()
    placed = client.post(f"/incidents/{held}/legal-hold", json={"reason": "Case 7"}, headers=admin.headers)
    assert placed.status_code == 201, placed.text
    assert _pieces(db) == 2

    with clock.frozen(NOW):
        purged = purge(database=db, settings=settings)
    assert (purged.incidents, purged.evidence_files, purged.missing_files) == (1, 1, [])
    assert _pieces(db) == 1
    kept = client.get(f"/incidents/{held}/evidence", headers=admin.headers).json()["evidence"]
    assert client.get(kept[0]["url"], headers=admin.headers).status_code == 200

    assert client.delete(f"/incidents/{held}/legal-hold", headers=admin.headers).status_code == 204
    with clock.frozen(NOW + timedelta(days=1)):
        purged = purge(database=db, settings=settings)
    assert (purged.incidents, purged.evidence_files) == (1, 1)
    assert _pieces(db) == 0


@pytest.mark.sqlite_only
def test_a_backup_carries_the_evidence_kept_in_the_database(
    client: TestClient, factory: Factory, settings: Settings, tmp_path: Path, screenshot: bytes
) -> None:
    engine, officer = factory.engine_key(), factory.authority()
    evidence = _upload(client, engine, _report(client, engine), screenshot)

    backup = back_up(settings=settings, target=tmp_path / "backup")

    assert backup.evidence_files == 0  # no files: the bytes are in the copied database
    restored = settings.model_copy(update={"data_dir": tmp_path / "backup"})
    with TestClient(create_app(restored)) as served:
        _downloaded(served.get(evidence["url"], headers=officer.headers), screenshot)


@pytest.fixture
def two_hosts(settings: Settings, tmp_path: Path) -> Iterator[tuple[LiveServer, LiveServer]]:
    """Two instances on the database, each with a data directory of its own (two hosts)."""
    hosts = []
    for name in ("host-a", "host-b"):
        (tmp_path / name).mkdir()
        env = {"SAFESPHERE_DATA_DIR": str(tmp_path / name), "SAFESPHERE_EVIDENCE_STORE": "database"}
        hosts.append(LiveServer(settings, extra_env=env))
    with hosts[0] as first, hosts[1] as second:
        yield first, second


@pytest.mark.postgres_only
def test_evidence_uploaded_through_one_instance_is_downloaded_through_another(
    two_hosts: tuple[LiveServer, LiveServer], client: TestClient, factory: Factory, screenshot: bytes,
    tmp_path: Path,
) -> None:  # fmt: skip
    first, second = two_hosts
    engine, officer = factory.engine_key(), factory.authority()
    evidence = _upload(first.url, engine, _report(client, engine), screenshot)

    answer = httpx.get(f"{second.url}{evidence['url']}", headers=officer.headers, timeout=10)

    _downloaded(answer, screenshot)
    assert _files(tmp_path / "host-a" / "evidence") == []
