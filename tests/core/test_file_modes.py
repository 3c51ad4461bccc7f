"""The data directory is the server's alone: 0700 directories, 0600 files (issue 16, item 4)."""

from __future__ import annotations

import io
import stat
from pathlib import Path

import httpx
from PIL import Image

from safesphere.core.config import Settings
from safesphere.core.security import SECRET_FILE_NAME
from tests.support.live import LiveServer


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(buffer, format="PNG")
    return buffer.getvalue()


def test_serve_makes_an_open_data_directory_private_and_says_so(settings: Settings, tmp_path: Path) -> None:
    data = settings.data_dir
    (data / "evidence" / "INC_OLD").mkdir(parents=True)
    old_evidence = data / "evidence" / "INC_OLD" / "frame.png"
    old_evidence.write_bytes(_png())
    for path in (data, data / "evidence", data / "evidence" / "INC_OLD"):
        path.chmod(0o755)
    secret = data / SECRET_FILE_NAME
    secret.write_text("an-old-secret-written-world-readable")
    files = [secret, old_evidence, *([data / "safesphere.db"] if settings.is_sqlite else [])]
    for path in files:
        path.chmod(0o644)

    with LiveServer(settings, serve_command=True) as server:
        assert server.log_path is not None
        banner = server.log_path.read_text()
        assert "owner-only" in banner and SECRET_FILE_NAME in banner
        for path in (data, data / "evidence", data / "evidence" / "INC_OLD"):
            assert _mode(path) == 0o700, path
        for path in files:
            assert _mode(path) == 0o600, path
        assert httpx.get(f"{server.url}/health", timeout=10).status_code == 200
        created = [p for p in data.rglob("*") if p.is_file() and p.name != server.log_path.name]
        assert all(_mode(p) == 0o600 for p in created), [(p, oct(_mode(p))) for p in created]


def test_a_new_database_and_evidence_are_created_private(settings: Settings) -> None:
    from safesphere.core.db import create_engine
    from safesphere.evidence.storage import store_image

    fresh = Settings(data_dir=settings.data_dir / "fresh", jwt_secret="x" * 40)
    engine = create_engine(fresh)
    with engine.connect():
        pass
    engine.dispose()
    assert _mode(fresh.data_dir) == 0o700
    assert _mode(fresh.data_dir / "safesphere.db") == 0o600

    stored = store_image(
        source=io.BytesIO(_png()),
        evidence_dir=fresh.evidence_dir,
        incident_id="INC_NEW",
        max_bytes=10**6,
        max_decodes=1,
    )
    assert _mode(stored.path) == 0o600
    assert _mode(stored.path.parent) == 0o700
