"""safesphere db backup: a consistent copy of a running SQLite installation, usable as a data directory."""

from __future__ import annotations

import hashlib
import io
import sqlite3
import threading
from pathlib import Path

import httpx
import sqlalchemy as sa
from PIL import Image
from typer.testing import CliRunner

from safesphere.cli import app as cli
from safesphere.core.config import Settings
from safesphere.core.db import Database
from safesphere.incidents.models import Incident
from tests.factories import Factory
from tests.incidents.reports import report_body
from tests.support.live import LiveServer, settings_env


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), "blue").save(buffer, "PNG")
    return buffer.getvalue()


def test_a_backup_taken_while_reports_arrive_is_consistent_and_complete(
    tmp_path: Path, settings: Settings, factory: Factory, live_server: LiveServer
) -> None:
    engine = factory.engine_key()
    first = report_body()
    with httpx.Client(base_url=live_server.url, headers=engine.headers, timeout=30) as http:
        assert http.post("/threats/report", json=first).status_code == 200
        files = {"file": ("shot.png", _png(), "image/png")}
        upload = http.post("/upload/screenshot", data={"incident_id": first["incident_id"]}, files=files)
        assert upload.status_code == 200, upload.text
    stored = next(p for p in settings.evidence_dir.rglob("*.png"))

    stop, sent = threading.Event(), []

    def keep_reporting() -> None:
        with httpx.Client(base_url=live_server.url, headers=engine.headers, timeout=30) as http:
            while not stop.is_set():
                body = report_body(threat_level="LOW", weapon_detected=False, weapon_types=[])
                if http.post("/threats/report", json=body).status_code == 200:
                    sent.append(body["incident_id"])

    reporter = threading.Thread(target=keep_reporting)
    reporter.start()
    try:
        target = tmp_path / "backup"
        result = CliRunner().invoke(cli, ["db", "backup", str(target)], env=settings_env(settings))
    finally:
        stop.set()
        reporter.join()

    if not settings.is_sqlite:
        assert result.exit_code == 1
        assert "pg_dump" in result.output
        return
    assert result.exit_code == 0, result.output
    assert "1 evidence files" in result.output
    with sqlite3.connect(target / "safesphere.db") as copy:
        assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        copied = {row[0] for row in copy.execute("SELECT incident_id FROM incidents")}
    assert first["incident_id"] in copied
    assert copied <= {first["incident_id"], *sent}  # nothing half-written, nothing invented
    backup_file = target / "evidence" / stored.relative_to(settings.evidence_dir)
    assert hashlib.sha256(backup_file.read_bytes()).digest() == hashlib.sha256(stored.read_bytes()).digest()

    restored = Database(Settings(data_dir=target, jwt_secret="another-secret-for-the-restored-copy-0123"))
    try:
        with restored.read_session() as session:
            assert session.scalar(sa.select(sa.func.count()).select_from(Incident)) == len(copied)
    finally:
        restored.dispose()

    again = CliRunner().invoke(cli, ["db", "backup", str(target)], env=settings_env(settings))
    assert again.exit_code == 1
    assert "is not empty" in " ".join(again.output.split())
