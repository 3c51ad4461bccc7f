"""Makes the clip fixtures of tests/evidence/clips/ with Debian's headless Chromium: one second of a
64x48 canvas changing colour, recorded by MediaRecorder as WebM (VP8) and as MP4 (H.264), as an engine's
browser-based recorder would. Run from the repository root:

    PYTHONPATH=src .venv/bin/python -m tests.evidence.clips.make_clips
"""

from __future__ import annotations

import base64
import tempfile
from pathlib import Path

from tests.support.browser import start_chromium

HERE = Path(__file__).parent
SIZE = (64, 48)
SECONDS = 1.0
RECORD = """
const [mimeType, width, height, seconds, done] = arguments;
const canvas = document.createElement('canvas');
canvas.width = width; canvas.height = height; document.body.append(canvas);
const paint = canvas.getContext('2d');
let frame = 0;
const tick = setInterval(() => {
  paint.fillStyle = `hsl(${frame * 20}, 80%, 50%)`; paint.fillRect(0, 0, width, height); frame += 1;
}, 40);
const recorder = new MediaRecorder(canvas.captureStream(25), { mimeType, videoBitsPerSecond: 100000 });
const parts = [];
recorder.ondataavailable = (event) => parts.push(event.data);
recorder.onstop = async () => {
  clearInterval(tick);
  const bytes = new Uint8Array(await new Blob(parts).arrayBuffer());
  let text = '';
  for (const byte of bytes) text += String.fromCharCode(byte);
  done(btoa(text));
};
recorder.start();
setTimeout(() => recorder.stop(), seconds * 1000);
"""


def record(mime_type: str) -> bytes:
    with tempfile.TemporaryDirectory() as profile:
        driver = start_chromium(Path(profile))
        try:
            driver.get("about:blank")
            driver.set_script_timeout(30)
            encoded: str = driver.execute_async_script(RECORD, mime_type, *SIZE, SECONDS)
        finally:
            driver.quit()
    return base64.b64decode(encoded)


def main() -> None:
    for name, mime_type in (("clip.webm", "video/webm;codecs=vp8"), ("clip.mp4", "video/mp4;codecs=avc1")):
        data = record(mime_type)
        (HERE / name).write_bytes(data)
        print(f"{name}: {len(data)} bytes")


if __name__ == "__main__":
    main()
