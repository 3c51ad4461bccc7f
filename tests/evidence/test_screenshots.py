"""Evidence screenshots: only real images, size caps, who may upload, custody records, listing, download."""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from PIL import Image

from safesphere.core.config import Settings
from safesphere.core.db import Database
from safesphere.evidence.models import Evidence
from tests.factories import Account, EngineCredentials, Factory
from tests.incidents.reports import report_body, stored_counts

UPLOAD_CAP = 64 * 1024


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"max_upload_bytes": UPLOAD_CAP}


def image_bytes(image_format: str, size: tuple[int, int] = (64, 48), *, noise: bool = False) -> bytes:
    """A real image; ``noise`` makes it incompressible so its file size tracks its pixel count."""
    image = (
        Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3)) if noise else Image.new("RGB", size)
    )
    buffer = io.BytesIO()
    image.save(buffer, image_format)
    return buffer.getvalue()


@pytest.fixture
def engine(factory: Factory) -> EngineCredentials:
    return factory.engine_key(name="cam-01")


@pytest.fixture
def authority(factory: Factory) -> Account:
    return factory.authority()


@pytest.fixture
def incident_id(client: TestClient, engine: EngineCredentials) -> str:
    body = report_body()
    assert client.post("/threats/report", json=body, headers=engine.headers).status_code == 200
    return str(body["incident_id"])


def _upload(
    client: TestClient, headers: dict[str, str], incident_id: str, content: bytes, name: str = "shot.jpg",
    content_type: str = "image/jpeg",
) -> tuple[int, dict[str, object]]:  # fmt: skip
    response = client.post(
        "/upload/screenshot",
        data={"incident_id": incident_id},
        files={"file": (name, content, content_type)},
        headers=headers,
    )
    return response.status_code, response.json()


def _stored_files(settings: Settings) -> list[Path]:
    if not settings.evidence_dir.exists():
        return []
    return sorted(p for p in settings.evidence_dir.rglob("*") if p.is_file())


@pytest.mark.parametrize(("image_format", "media_type", "extension"), [
    ("JPEG", "image/jpeg", "jpg"), ("PNG", "image/png", "png"), ("WEBP", "image/webp", "webp"),
])  # fmt: skip
def test_an_engine_uploads_a_real_image_for_its_incident(
    client: TestClient, engine: EngineCredentials, incident_id: str, settings: Settings, db: Database,
    image_format: str, media_type: str, extension: str,
) -> None:  # fmt: skip
    content = image_bytes(image_format)
    status, body = _upload(client, engine.headers, incident_id, content, name="../../etc/passwd.gif",
                           content_type="text/plain")  # fmt: skip

    assert status == 200, body
    assert body["success"] is True
    assert body["incident_id"] == incident_id
    filename = str(body["filename"])
    assert filename.startswith(f"{incident_id}_") and filename.endswith(f".{extension}")
    assert "passwd" not in filename
    assert body["path"] == f"evidence/{incident_id}/{filename}"
    stored = settings.data_dir / str(body["path"])
    assert _stored_files(settings) == [stored]
    assert stored.read_bytes() == content
    record = body["evidence"]
    assert isinstance(record, dict)
    assert record["media_type"] == media_type
    assert record["size_bytes"] == len(content)
    assert record["sha256"] == hashlib.sha256(content).hexdigest()
    assert (record["width"], record["height"]) == (64, 48)
    assert record["client_filename"] == "../../etc/passwd.gif"
    assert record["uploaded_by"] == "engine key cam-01"
    with db.read_session() as session:
        row = session.scalar(sa.select(Evidence))
    assert row is not None and row.uploaded_by_engine_key_id == engine.key_id


def test_an_authority_uploads_several_and_lists_and_downloads_them(
    client: TestClient, authority: Account, incident_id: str
) -> None:
    contents = [image_bytes("PNG", (8, 8)), image_bytes("JPEG", (16, 16)), image_bytes("PNG", (8, 8))]
    for content in contents:
        assert _upload(client, authority.headers, incident_id, content)[0] == 200

    listed = client.get(f"/incidents/{incident_id}/evidence", headers=authority.headers)
    assert listed.status_code == 200
    evidence = listed.json()["evidence"]
    assert listed.json()["count"] == 3
    assert len({e["filename"] for e in evidence}) == 3
    assert {e["uploaded_by"] for e in evidence} == {f"authority {authority.user.email}"}
    assert client.get(f"/incidents/{incident_id}", headers=authority.headers).json()["evidence"] == evidence

    for content, item in zip(contents, evidence, strict=True):
        download = client.get(item["url"], headers=authority.headers)
        assert download.status_code == 200
        assert download.content == content
        assert download.headers["content-type"] == item["media_type"]
        assert download.headers["x-evidence-sha256"] == hashlib.sha256(content).hexdigest()
        assert item["filename"] in download.headers["content-disposition"]


@pytest.mark.parametrize(("content", "case"), [
    (b"this is not an image, whatever the name says", "text"),
    (b"", "empty"),
    (image_bytes("GIF"), "a real GIF"),
    (image_bytes("BMP"), "a real BMP"),
    (image_bytes("JPEG", (64, 64), noise=True)[:2000], "a truncated JPEG"),
    (image_bytes("PNG")[:8] + b"\x00" * 200, "a PNG signature over garbage"),
])  # fmt: skip
def test_anything_but_a_whole_jpeg_png_or_webp_is_415_and_nothing_is_kept(
    client: TestClient, engine: EngineCredentials, incident_id: str, settings: Settings, db: Database,
    content: bytes, case: str,
) -> None:  # fmt: skip
    status, body = _upload(
        client, engine.headers, incident_id, content, name="shot.jpg", content_type="image/jpeg"
    )
    assert status == 415, (case, body)
    assert _stored_files(settings) == []
    assert stored_counts(db)["evidence"] == 0


def test_a_file_over_the_cap_is_413_and_nothing_is_kept(
    client: TestClient, engine: EngineCredentials, incident_id: str, settings: Settings, db: Database
) -> None:
    content = image_bytes("PNG", (160, 160), noise=True)
    assert UPLOAD_CAP < len(content) < UPLOAD_CAP + 64 * 1024
    status, body = _upload(client, engine.headers, incident_id, content)
    assert status == 413, body
    far_too_big = image_bytes("PNG", (300, 300), noise=True)
    assert _upload(client, engine.headers, incident_id, far_too_big)[0] == 413
    assert _stored_files(settings) == []
    assert stored_counts(db)["evidence"] == 0


def test_a_decompression_bomb_is_refused(
    client: TestClient, engine: EngineCredentials, incident_id: str, settings: Settings
) -> None:
    buffer = io.BytesIO()
    Image.new("1", (10_000, 10_000)).save(buffer, "PNG")
    assert len(buffer.getvalue()) < UPLOAD_CAP
    status, _ = _upload(client, engine.headers, incident_id, buffer.getvalue())
    assert status == 413
    assert _stored_files(settings) == []


def test_an_unknown_incident_is_404(
    client: TestClient, engine: EngineCredentials, settings: Settings
) -> None:
    status, body = _upload(client, engine.headers, "INC_NOPE", image_bytes("PNG"))
    assert (status, body) == (404, {"detail": "Incident not found"})
    assert _stored_files(settings) == []


def test_an_engine_may_not_add_evidence_to_another_engines_incident(
    client: TestClient, factory: Factory, incident_id: str, settings: Settings, db: Database
) -> None:
    other = factory.engine_key(name="cam-02")
    status, _ = _upload(client, other.headers, incident_id, image_bytes("PNG"))
    assert status == 403
    tourist = factory.tourist()
    assert _upload(client, tourist.headers, incident_id, image_bytes("PNG"))[0] == 403
    assert _upload(client, {}, incident_id, image_bytes("PNG"))[0] == 401
    assert _stored_files(settings) == []
    assert stored_counts(db)["evidence"] == 0


@pytest.mark.parametrize(("form", "loc"), [
    ({"incident_id": "../x"}, ["body", "incident_id"]),
    ({"incident_id": "a/b"}, ["body", "incident_id"]),
    ({}, ["body", "incident_id"]),
])  # fmt: skip
def test_bad_upload_forms_name_the_field(
    client: TestClient, engine: EngineCredentials, settings: Settings, form: dict[str, str], loc: list[str]
) -> None:
    response = client.post(
        "/upload/screenshot", data=form, files={"file": ("x.png", image_bytes("PNG"), "image/png")},
        headers=engine.headers,
    )  # fmt: skip
    assert response.status_code == 422
    assert loc in [e["loc"] for e in response.json()["detail"]]
    missing_file = client.post("/upload/screenshot", data={"incident_id": "INC_1"}, headers=engine.headers)
    assert missing_file.status_code == 422
    assert ["body", "file"] in [e["loc"] for e in missing_file.json()["detail"]]
    assert _stored_files(settings) == []


def _refuse_evidence_rows(db: Database) -> None:
    """Makes the database itself refuse evidence rows, as a full disk or a lost connection would."""
    with db.engine.begin() as connection:
        if connection.dialect.name == "sqlite":
            connection.exec_driver_sql(
                "CREATE TRIGGER refuse_evidence BEFORE INSERT ON evidence "
                "BEGIN SELECT RAISE(ABORT, 'refused'); END"
            )
        else:
            connection.exec_driver_sql(
                "CREATE FUNCTION refuse_evidence() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN RAISE EXCEPTION 'refused'; END $$"
            )
            connection.exec_driver_sql(
                "CREATE TRIGGER refuse_evidence BEFORE INSERT ON evidence "
                "FOR EACH ROW EXECUTE FUNCTION refuse_evidence()"
            )


def test_when_the_row_cannot_be_written_the_file_is_removed(
    client: TestClient, engine: EngineCredentials, incident_id: str, settings: Settings, db: Database
) -> None:
    _refuse_evidence_rows(db)
    with pytest.raises(sa.exc.DBAPIError):
        _upload(client, engine.headers, incident_id, image_bytes("PNG"))
    assert _stored_files(settings) == []
    assert stored_counts(db)["evidence"] == 0


def test_downloads_of_unknown_or_missing_files_are_404(
    client: TestClient, authority: Account, engine: EngineCredentials, incident_id: str, settings: Settings
) -> None:
    assert client.get("/evidence/999", headers=authority.headers).json() == {"detail": "Evidence not found"}
    assert client.get(f"/evidence/{2**40}", headers=authority.headers).status_code == 422
    assert client.get("/incidents/INC_NOPE/evidence", headers=authority.headers).status_code == 404
    _, body = _upload(client, engine.headers, incident_id, image_bytes("PNG"))
    (settings.data_dir / str(body["path"])).unlink()
    evidence = body["evidence"]
    assert isinstance(evidence, dict)
    missing = client.get(str(evidence["url"]), headers=authority.headers)
    assert missing.status_code == 404
    assert missing.json() == {"detail": "Evidence file not found"}
