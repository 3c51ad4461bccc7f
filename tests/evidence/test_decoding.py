"""Images are verified without their whole bitmap (issue 16, item 3): a PNG's rows are inflated a piece at
a time and checked, a JPEG is decoded at 1/8 scale, the true size is recorded, and eight concurrent
64-megapixel uploads leave the server's memory bounded."""

from __future__ import annotations

import io
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from safesphere.auth import service as auth_service
from safesphere.core.config import Settings
from safesphere.core.db import Database
from tests.factories import EngineCredentials, Factory
from tests.incidents.reports import report_body, stored_counts
from tests.support import images
from tests.support.images import chunk, compressed, ihdr, png, rgb_rows
from tests.support.live import LiveServer

WIDTH, HEIGHT = 40, 30


def _upload(
    client: TestClient | httpx.Client, headers: dict[str, str], incident_id: str, content: bytes
) -> httpx.Response:
    return client.post(
        "/upload/screenshot",
        data={"incident_id": incident_id},
        files={"file": ("shot.png", content, "image/png")},
        headers=headers,
    )


@pytest.fixture
def engine(factory: Factory) -> EngineCredentials:
    return factory.engine_key(name="cam-01")


@pytest.fixture
def incident_id(client: TestClient, engine: EngineCredentials) -> str:
    body = report_body()
    assert client.post("/threats/report", json=body, headers=engine.headers).status_code == 200
    return str(body["incident_id"])


def _stored_files(settings: Settings) -> list[Path]:
    if not settings.evidence_dir.exists():
        return []
    return sorted(p for p in settings.evidence_dir.rglob("*") if p.is_file())


def _broken_pngs() -> dict[str, bytes]:
    rows = rgb_rows(WIDTH, HEIGHT)
    whole = png(ihdr(WIDTH, HEIGHT), compressed(rows), idat_size=8)
    first_idat = whole.index(b"IDAT") - 4
    bad_crc = bytearray(whole)
    bad_crc[first_idat + 8 + 10] ^= 0xFF
    return {
        "cut in its image data": whole[: first_idat + 30],
        "a chunk failing its CRC": bytes(bad_crc),
        "a row missing": png(ihdr(WIDTH, HEIGHT), compressed(rows[:-1])),
        "a row too many": png(ihdr(WIDTH, HEIGHT), compressed([*rows, rows[0]])),
        "an unknown row filter": png(ihdr(WIDTH, HEIGHT), compressed(rgb_rows(WIDTH, HEIGHT, filter_type=9))),
        "a zlib stream cut short": png(ihdr(WIDTH, HEIGHT), compressed(rows)[:-6]),
        "no IEND": whole[: -len(chunk(b"IEND", b""))],
    }


@pytest.mark.parametrize("case", list(_broken_pngs()))
def test_a_broken_png_is_415_and_nothing_is_kept(
    client: TestClient, engine: EngineCredentials, incident_id: str, settings: Settings, db: Database,
    case: str,
) -> None:  # fmt: skip
    # Stricter than Pillow, which shows a PNG missing rows or its IEND as if it were whole.
    content = _broken_pngs()[case]
    response = _upload(client, engine.headers, incident_id, content)
    assert response.status_code == 415, (case, response.text)
    assert _stored_files(settings) == []
    assert stored_counts(db)["evidence"] == 0


def test_an_interlaced_png_is_accepted_with_its_size(
    client: TestClient, engine: EngineCredentials, incident_id: str
) -> None:
    content = png(ihdr(WIDTH, HEIGHT, interlace=True), compressed(rgb_rows(WIDTH, HEIGHT, interlace=True)))
    with Image.open(io.BytesIO(content)) as image:
        image.load()  # a valid file, as Pillow reads it whole
    response = _upload(client, engine.headers, incident_id, content)
    assert response.status_code == 200, response.text
    evidence = response.json()["evidence"]
    assert (evidence["width"], evidence["height"]) == (WIDTH, HEIGHT)


@pytest.mark.parametrize("progressive", [False, True])
def test_a_jpeg_decoded_at_reduced_scale_keeps_its_true_size(
    client: TestClient, engine: EngineCredentials, incident_id: str, progressive: bool
) -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (1601, 1203), "navy").save(buffer, "JPEG", progressive=progressive)
    response = _upload(client, engine.headers, incident_id, buffer.getvalue())
    assert response.status_code == 200, response.text
    evidence = response.json()["evidence"]
    assert (evidence["width"], evidence["height"]) == (1601, 1203)
    cut = buffer.getvalue()[: len(buffer.getvalue()) // 2]
    assert _upload(client, engine.headers, incident_id, cut).status_code == 415


CONCURRENT_UPLOADS = 8
SIDE = 7999
"""7999 x 7999 = 63.98 MP, just under the 64 MP cap: 192 MB as a decoded RGB bitmap, ~190 KB as a file."""
PEAK_GROWTH_MB = 150
"""The bound docs/SECURITY.md states: eight of them at once may add at most this much to the server's
peak RSS (decoding them whole, as before, added ~1.5 GB)."""
SETTLED_GROWTH_MB = 60


def _status_mb(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no {field} for {pid}")


def test_eight_concurrent_maximum_size_uploads_keep_memory_bounded(settings: Settings) -> None:
    content = images.black_png(SIDE, SIDE)
    assert len(content) < settings.max_upload_bytes
    database = Database(settings)
    with database.session() as session:
        key = auth_service.create_engine_key(session=session, name="cam-rss").key
    database.dispose()
    headers = {"Authorization": f"Bearer {key}"}
    with LiveServer(settings) as server, httpx.Client(base_url=server.url, timeout=120) as client:
        assert server.process is not None
        pid = server.process.pid
        body = report_body()
        assert client.post("/threats/report", json=body, headers=headers).status_code == 200
        assert _upload(client, headers, str(body["incident_id"]), images.black_png(64, 64)).status_code == 200
        baseline = _status_mb(pid, "VmRSS")
        Path(f"/proc/{pid}/clear_refs").write_text("5")  # VmHWM := VmRSS, so the peak below is this test's
        started = time.monotonic()
        barrier = threading.Barrier(CONCURRENT_UPLOADS)

        def upload(_: int) -> httpx.Response:
            barrier.wait()
            return _upload(client, headers, str(body["incident_id"]), content)

        with ThreadPoolExecutor(CONCURRENT_UPLOADS) as pool:
            answers = list(pool.map(upload, range(CONCURRENT_UPLOADS)))
        elapsed = time.monotonic() - started
        peak = _status_mb(pid, "VmHWM")
        time.sleep(0.5)
        settled = _status_mb(pid, "VmRSS")
    print(f"RSS baseline {baseline:.0f} MB, peak {peak:.0f} MB, after {settled:.0f} MB, {elapsed:.1f} s")
    for answer in answers:
        assert answer.status_code == 200, answer.text
        evidence = answer.json()["evidence"]
        assert (evidence["width"], evidence["height"]) == (SIDE, SIDE)
    assert peak - baseline < PEAK_GROWTH_MB, (baseline, peak)
    assert settled - baseline < SETTLED_GROWTH_MB, (baseline, settled)
