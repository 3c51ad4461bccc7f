"""Evidence files on disk: stream an upload to a temporary file, prove what it is, move it into place.

The client's file name and content type are never trusted: the bytes are verified (``decoding`` for JPEG,
PNG and WebP images, ``containers`` for MP4 and WebM clips) and kept under a name the server makes.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from safesphere.core.errors import PayloadTooLarge
from safesphere.core.files import FILE_MODE, make_private_dir
from safesphere.evidence import decoding

CHUNK_BYTES = 1024 * 1024
"""Uploads are copied in 1 MiB pieces so a large file never sits in memory whole."""

ACCEPTED_FORMATS: dict[str, tuple[str, str]] = {
    "JPEG": ("image/jpeg", "jpg"),
    "PNG": ("image/png", "png"),
    "WEBP": ("image/webp", "webp"),
}
"""Pillow format name -> (media type, file extension) of the screenshots the engines send."""

STAGING_DIR = ".staging"
"""Uploads are written here first (same file system, so the final move is an atomic rename)."""


@dataclass(frozen=True)
class StoredFile:
    """A verified image or clip moved into the evidence directory."""

    path: Path
    relative_path: str
    filename: str
    media_type: str
    size_bytes: int
    sha256: str
    width: int
    height: int


@dataclass(frozen=True)
class _Staged:
    path: Path
    size_bytes: int
    sha256: str


def _stage(source: BinaryIO, directory: Path, max_bytes: int) -> _Staged:
    """Copies ``source`` into a temporary file in ``directory``, hashing it; 413 past ``max_bytes``."""
    make_private_dir(directory)
    temporary = directory / f".upload-{secrets.token_hex(8)}.part"
    digest = hashlib.sha256()
    size = 0
    try:
        with os.fdopen(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE), "wb") as target:
            while chunk := source.read(CHUNK_BYTES):
                size += len(chunk)
                if size > max_bytes:
                    raise PayloadTooLarge(f"File larger than {max_bytes} bytes")
                digest.update(chunk)
                target.write(chunk)
            target.flush()
            os.fsync(target.fileno())
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return _Staged(temporary, size, digest.hexdigest())


def _sync_directory(directory: Path) -> None:
    """Makes a rename durable: the directory entry is on disk before the database row is committed."""
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


@dataclass(frozen=True)
class Verified:
    """What a verifier proved of a staged file."""

    media_type: str
    extension: str
    width: int
    height: int


def store_image(
    *, source: BinaryIO, evidence_dir: Path, incident_id: str, max_bytes: int, max_decodes: int
) -> StoredFile:
    """Verifies ``source`` is an accepted image (``decoding``, at most ``max_decodes`` at once) and moves
    it to ``<evidence_dir>/<incident_id>/`` under a server-made name; nothing is left behind when it is
    refused."""

    def verify(path: Path) -> Verified:
        header = decoding.verify_image(path, max_concurrent=max_decodes)
        media_type, extension = ACCEPTED_FORMATS[header.format]
        return Verified(media_type, extension, header.width, header.height)

    return store_verified(
        source=source, evidence_dir=evidence_dir, incident_id=incident_id, max_bytes=max_bytes, verify=verify
    )


def store_verified(
    *,
    source: BinaryIO,
    evidence_dir: Path,
    incident_id: str,
    max_bytes: int,
    verify: Callable[[Path], Verified],
) -> StoredFile:
    """Stages ``source``, has ``verify`` prove what it is (it raises to refuse), and moves it into place
    under a server-made name with the verified extension; nothing is left behind when it is refused."""
    staged = _stage(source, evidence_dir / STAGING_DIR, max_bytes)
    directory = evidence_dir / incident_id
    placed: Path | None = None
    try:
        header = verify(staged.path)
        media_type, extension = header.media_type, header.extension
        filename = f"{incident_id}_{secrets.token_hex(8)}.{extension}"
        make_private_dir(directory)
        final = directory / filename
        os.replace(staged.path, final)
        placed = final
        _sync_directory(directory)
    except BaseException:
        staged.path.unlink(missing_ok=True)
        if placed is not None:
            discard(placed)
        raise
    return StoredFile(
        path=final,
        relative_path=f"{incident_id}/{filename}",
        filename=filename,
        media_type=media_type,
        size_bytes=staged.size_bytes,
        sha256=staged.sha256,
        width=header.width,
        height=header.height,
    )


def discard(path: Path) -> None:
    """Removes a stored file whose database row could not be written."""
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
