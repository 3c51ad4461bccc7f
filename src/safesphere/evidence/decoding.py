"""Proving an upload is a whole JPEG, PNG or WebP without holding its bitmap: the header first (format,
size, pixel cap), then a decode bounded in memory, at most N at once in a process.

A 64-megapixel PNG of one colour is 250 KB on the wire and 192 MB decoded: decoding eight of them at once
took the server from 221 MB to 1.8 GB. Here a PNG's compressed rows are inflated and checked a megabyte at
a time and never kept; a JPEG is entropy-decoded whole but its pixels are built at 1/8 scale (libjpeg's
DCT scaling); a WebP (Pillow cannot scale it) is decoded whole, under the same cap on concurrent decodes.
The size reported is always the header's: the scaled decode only proves the data is whole.
"""

from __future__ import annotations

import contextlib
import functools
import struct
import threading
import warnings
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from PIL import Image, UnidentifiedImageError

from safesphere.core.errors import PayloadTooLarge, ServiceUnavailable, UnsupportedMediaType

MAX_IMAGE_PIXELS = 64_000_000
"""Above a 64-megapixel decode the "image" is a decompression bomb, not a camera frame."""

ACCEPTED_FORMATS = frozenset({"JPEG", "PNG", "WEBP"})
"""Pillow format names of the screenshots the engines send."""

DECODE_WAIT_S = 30.0
"""How long an upload waits for a decode slot before it is a 503: longer than a 64 MP decode takes."""
DECODE_RETRY_AFTER_S = 5
"""A refused upload is retried once a few decodes have finished."""

PIECE_BYTES = 1024 * 1024
"""A PNG is read, and its rows inflated, this much at a time."""

JPEG_SCALE = (1, 1)
"""Asked of ``Image.draft``: the smallest DCT scale (1/8 per side), so a JPEG's pixels cost 1/64."""

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
"""Samples per pixel of each PNG colour type."""
_ADAM7 = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2))
"""The interlaced passes as (x0, y0, dx, dy)."""
_MAX_FILTER = 4
_MAX_CHUNK = 2**31 - 1
_IHDR_BYTES = 13

NOT_AN_IMAGE = "The file is not a readable JPEG, PNG or WebP image"


@dataclass(frozen=True)
class ImageHeader:
    """What the header says: the Pillow format and the true size in pixels."""

    format: str
    width: int
    height: int


def verify_image(path: Path, *, max_concurrent: int) -> ImageHeader:
    """The header of a whole JPEG/PNG/WebP at ``path``; 415 for anything else, 413 past the pixel cap,
    503 when no decode slot frees within ``DECODE_WAIT_S``."""
    header = read_header(path)
    with _decode_slot(max_concurrent):
        try:
            _DECODERS[header.format](path)
        except (OSError, SyntaxError, ValueError, EOFError, struct.error, zlib.error) as exc:
            raise UnsupportedMediaType(NOT_AN_IMAGE) from exc
    return header


def read_header(path: Path) -> ImageHeader:
    """Format and size from the header alone (Pillow's ``open`` decodes no pixel)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                header = ImageHeader(image.format or "", image.width, image.height)
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
        raise PayloadTooLarge(f"Image larger than {MAX_IMAGE_PIXELS} pixels") from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise UnsupportedMediaType(NOT_AN_IMAGE) from exc
    if header.format not in ACCEPTED_FORMATS:
        raise UnsupportedMediaType("Only JPEG, PNG and WebP images are accepted")
    if header.width * header.height > MAX_IMAGE_PIXELS:
        raise PayloadTooLarge(f"Image larger than {MAX_IMAGE_PIXELS} pixels")
    return header


@functools.cache
def _slots(count: int) -> threading.BoundedSemaphore:
    """One semaphore per process (and per configured count): memory is the process's."""
    return threading.BoundedSemaphore(count)


@contextlib.contextmanager
def _decode_slot(count: int) -> Iterator[None]:
    slots = _slots(count)
    if not slots.acquire(timeout=DECODE_WAIT_S):
        raise ServiceUnavailable("Busy decoding other images; try again", retry_after_s=DECODE_RETRY_AFTER_S)
    try:
        yield
    finally:
        slots.release()


def _decode_jpeg(path: Path) -> None:
    """Entropy-decodes every scan (a cut or corrupt file raises) but builds the pixels at 1/8 per side."""
    with Image.open(path) as image:
        image.draft(image.mode, JPEG_SCALE)
        image.load()


def _decode_whole(path: Path) -> None:
    with Image.open(path) as image:
        image.load()


def _decode_png(path: Path) -> None:
    """Checks every chunk's CRC and inflates the image data a piece at a time: it must be one zlib stream
    of exactly the rows the header announces, each starting with a known filter type."""
    with path.open("rb") as file:
        if file.read(len(_PNG_SIGNATURE)) != _PNG_SIGNATURE:
            raise ValueError("not a PNG")
        ihdr = bytearray()
        if _read_chunk(file, {b"IHDR": ihdr.extend}) != b"IHDR" or len(ihdr) != _IHDR_BYTES:
            raise ValueError("PNG without IHDR")
        rows = _PngRows.from_ihdr(bytes(ihdr))
        inflater = zlib.decompressobj()

        def inflate(piece: bytes) -> None:
            if inflater.eof:
                raise ValueError("PNG image data after the end of its zlib stream")
            while piece:
                rows.consume(inflater.decompress(piece, PIECE_BYTES))
                piece = inflater.unconsumed_tail

        while _read_chunk(file, {b"IDAT": inflate}) != b"IEND":
            pass
    if not inflater.eof or not rows.complete:
        raise ValueError("PNG image data is cut short")


def _read_chunk(file: BinaryIO, sinks: dict[bytes, Callable[[bytes], None]]) -> bytes:
    """Reads the next chunk, handing its data a piece at a time to the sink for its type (other chunks
    are only read), checks its CRC and returns its type."""
    length, kind = struct.unpack(">I4s", _exactly(file, 8))
    if length > _MAX_CHUNK:
        raise ValueError("PNG chunk too long")
    sink = sinks.get(kind)
    crc = zlib.crc32(kind)
    while length:
        piece = _exactly(file, min(length, PIECE_BYTES))
        length -= len(piece)
        crc = zlib.crc32(piece, crc)
        if sink is not None:
            sink(piece)
    if struct.unpack(">I", _exactly(file, 4))[0] != crc:
        raise ValueError(f"PNG {kind!r} chunk fails its CRC")
    return bytes(kind)


def _exactly(file: BinaryIO, size: int) -> bytes:
    data = file.read(size)
    if len(data) != size:
        raise EOFError("PNG cut short")
    return data


@dataclass
class _PngRows:
    """The filtered rows a PNG's header announces, as (row count, row length) per pass, consumed in order."""

    passes: list[tuple[int, int]]
    index: int = 0
    offset: int = 0

    @classmethod
    def from_ihdr(cls, ihdr: bytes) -> _PngRows:
        width, height, depth, colour, _compression, _filter, interlace = struct.unpack(">IIBBBBB", ihdr)
        if colour not in _PNG_CHANNELS:
            raise ValueError("unknown PNG colour type")
        bits = depth * _PNG_CHANNELS[colour]
        grid = _ADAM7 if interlace else ((0, 0, 1, 1),)
        passes = []
        for x0, y0, dx, dy in grid:
            columns, count = -(-(width - x0) // dx), -(-(height - y0) // dy)
            if columns > 0 and count > 0:
                passes.append((count, 1 + -(-(columns * bits) // 8)))
        return cls(passes)

    @property
    def complete(self) -> bool:
        return self.index == len(self.passes)

    def consume(self, data: bytes) -> None:
        position = 0
        while position < len(data):
            if self.complete:
                raise ValueError("PNG image data longer than its rows")
            count, length = self.passes[self.index]
            take = min(len(data) - position, count * length - self.offset)
            piece = data[position : position + take]
            filters = piece[(-self.offset) % length :: length]
            if filters and max(filters) > _MAX_FILTER:
                raise ValueError("PNG row with an unknown filter type")
            self.offset += take
            position += take
            if self.offset == count * length:
                self.index, self.offset = self.index + 1, 0


_DECODERS = {"JPEG": _decode_jpeg, "PNG": _decode_png, "WEBP": _decode_whole}
