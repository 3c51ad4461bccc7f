"""PNG files written chunk by chunk, so a test can make a 64-megapixel one without a 192 MB bitmap, or
one broken in a precise place (a cut stream, a bad CRC, an unknown row filter)."""

from __future__ import annotations

import struct
import zlib

SIGNATURE = b"\x89PNG\r\n\x1a\n"
ADAM7 = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2))


def chunk(kind: bytes, data: bytes, *, crc: int | None = None) -> bytes:
    checksum = zlib.crc32(kind + data) if crc is None else crc
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", checksum)


def ihdr(width: int, height: int, *, interlace: bool = False) -> bytes:
    """8-bit RGB."""
    return chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, int(interlace)))


def rgb_rows(width: int, height: int, *, interlace: bool = False, filter_type: int = 0) -> list[bytes]:
    """Black filtered rows as the header announces them (each pass of an interlaced image in turn)."""
    grid = ADAM7 if interlace else ((0, 0, 1, 1),)
    rows = []
    for x0, y0, dx, dy in grid:
        columns, count = -(-(width - x0) // dx), -(-(height - y0) // dy)
        if columns > 0 and count > 0:
            rows += [bytes([filter_type]) + bytes(3 * columns)] * count
    return rows


def compressed(rows: list[bytes] | bytes, repeat: int = 1) -> bytes:
    """zlib data of ``rows`` (``repeat`` times), compressed as it goes: no whole bitmap is built."""
    compressor = zlib.compressobj(9)
    pieces = []
    block = rows if isinstance(rows, bytes) else b"".join(rows)
    for _ in range(repeat):
        pieces.append(compressor.compress(block))
    pieces.append(compressor.flush())
    return b"".join(pieces)


def png(header: bytes, image_data: bytes, *, idat_size: int = 64 * 1024) -> bytes:
    """A PNG of ``header`` (IHDR) and ``image_data`` (zlib) split over IDAT chunks, then IEND."""
    idats = [chunk(b"IDAT", image_data[i : i + idat_size]) for i in range(0, len(image_data), idat_size)]
    return SIGNATURE + header + b"".join(idats) + chunk(b"IEND", b"")


def black_png(width: int, height: int) -> bytes:
    """An 8-bit RGB black image of any size, compressed a row at a time (7999x7999 is ~190 KB)."""
    row = bytes(1 + 3 * width)
    return png(ihdr(width, height), compressed(row, repeat=height))
