"""Video clips proven by their container, never by their name or content type: an MP4 is an ISO BMFF file
whose first box is ``ftyp`` and which holds a ``moov`` with a video track (``hdlr`` ``vide``, its size
from ``tkhd``); a WebM is an EBML file whose header says DocType ``webm`` and whose Segment's Tracks hold
a video track (TrackType 1, PixelWidth/PixelHeight). Box and element sizes are checked against the file,
so a truncated or forged header is refused. Frames are not decoded: the browser that plays it does.

The walk reads headers only (a few bytes each, nothing is kept but the positions it needs) and stops
after ``MAX_HEADERS``, so a forged file of tiny boxes costs no more than a real clip."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from safesphere.core.errors import UnsupportedMediaType

NOT_A_CLIP = "The file is not an MP4 or WebM video clip"
MAX_SIDE = 16384
"""Wider or taller than any camera frame: a forged header."""
MAX_HEADERS = 10_000
"""Box or element headers read per file: a clip under the size cap has a few hundred (one per fragment or
cluster); a 10 MiB file of 8-byte boxes would have 1.3 million (700 MB and two minutes to list them)."""
MAX_DOC_TYPE = 16
"""A DocType longer than this is not ``webm``; it is not read."""

EBML_HEADER, DOC_TYPE, SEGMENT, TRACKS, TRACK_ENTRY = 0x1A45DFA3, 0x4282, 0x18538067, 0x1654AE6B, 0xAE
TRACK_TYPE, VIDEO, PIXEL_WIDTH, PIXEL_HEIGHT = 0x83, 0xE0, 0xB0, 0xBA
VIDEO_TRACK = 1
UNKNOWN_SIZE = -1

Span = tuple[int, int]
"""A payload's start and end in the file."""


@dataclass(frozen=True)
class ClipHeader:
    media_type: str
    extension: str
    width: int
    height: int


def _refuse(reason: str) -> UnsupportedMediaType:
    return UnsupportedMediaType(f"{NOT_A_CLIP}: {reason}")


class _Reader:
    """Reads parts of the staged file and counts the headers read against ``MAX_HEADERS``."""

    def __init__(self, source: BinaryIO) -> None:
        self.source = source
        self.headers = 0

    def read(self, at: int, count: int) -> bytes:
        self.source.seek(at)
        data = self.source.read(count)
        if len(data) != count:
            raise _refuse("it ends inside a header")
        return data

    def count_header(self) -> None:
        self.headers += 1
        if self.headers > MAX_HEADERS:
            raise _refuse(f"it has more than {MAX_HEADERS} boxes or elements")


# ---------- MP4 (ISO base media file format) ----------
def _boxes(reader: _Reader, span: Span) -> Iterator[tuple[bytes, int, int]]:
    """The boxes of ``span``: (type, payload start, box end), each inside its parent."""
    at, end = span
    while at < end:
        reader.count_header()
        if end - at < 8:
            raise _refuse("a box header is cut off")
        header = reader.read(at, 8)
        size, kind = int.from_bytes(header[:4], "big"), header[4:]
        payload = at + 8
        if size == 1:
            size, payload = int.from_bytes(reader.read(at + 8, 8), "big"), at + 16
        elif size == 0:
            size = end - at  # to the end of its parent
        if size < payload - at or at + size > end:
            raise _refuse(f"the {kind.decode('latin-1')!r} box runs past its end")
        yield kind, payload, at + size
        at += size


def _children(reader: _Reader, span: Span) -> dict[bytes, Span]:
    return {kind: (start, end) for kind, start, end in _boxes(reader, span)}


def _mp4_video_size(reader: _Reader, trak: Span) -> tuple[int, int] | None:
    children = _children(reader, trak)
    if b"tkhd" not in children or b"mdia" not in children:
        return None
    mdia = _children(reader, children[b"mdia"])
    if b"hdlr" not in mdia or reader.read(mdia[b"hdlr"][0] + 8, 4) != b"vide":
        return None
    start, end = children[b"tkhd"]
    if end - start < 8:
        raise _refuse("the track header is cut off")
    fixed = reader.read(end - 8, 8)  # width and height, 16.16 fixed point, end the track header
    return int.from_bytes(fixed[:4], "big") >> 16, int.from_bytes(fixed[4:], "big") >> 16


def _mp4(reader: _Reader, length: int) -> ClipHeader:
    moov: list[Span] = []
    for index, (kind, start, end) in enumerate(_boxes(reader, (0, length))):
        if index == 0 and kind != b"ftyp":
            raise _refuse("an MP4 starts with an 'ftyp' box")
        if kind == b"moov":
            moov.append((start, end))
    if len(moov) != 1:
        raise _refuse("an MP4 holds one 'moov' box")
    for kind, start, end in _boxes(reader, moov[0]):
        if kind == b"trak" and (size := _mp4_video_size(reader, (start, end))) is not None:
            return ClipHeader("video/mp4", "mp4", *size)
    raise _refuse("the MP4 has no video track")


# ---------- WebM (EBML, Matroska) ----------
def _vint(reader: _Reader, at: int, *, keep_marker: bool) -> tuple[int, int]:
    """An EBML variable-length integer at ``at``: (value, its length in bytes)."""
    first = reader.read(at, 1)[0]
    length = next((n for n in range(1, 9) if first & (0x80 >> (n - 1))), 0)
    if length == 0:
        raise _refuse("an EBML number is malformed")
    data = first.to_bytes(1, "big") + (reader.read(at + 1, length - 1) if length > 1 else b"")
    value = int.from_bytes(data, "big")
    if keep_marker:
        return value, length
    value &= (1 << (7 * length)) - 1
    return (UNKNOWN_SIZE if value == (1 << (7 * length)) - 1 else value), length


def _elements(reader: _Reader, span: Span) -> Iterator[tuple[int, int, int]]:
    """The elements of ``span``: (id, payload start, element end). An element of unknown size (a live
    recording's Segment or Cluster) reaches to the end of its parent."""
    at, end = span
    while at < end:
        reader.count_header()
        element_id, id_length = _vint(reader, at, keep_marker=True)
        size, size_length = _vint(reader, at + id_length, keep_marker=False)
        payload = at + id_length + size_length
        stop = end if size == UNKNOWN_SIZE else payload + size
        if stop > end:
            raise _refuse("an EBML element runs past its end")
        yield element_id, payload, stop
        if size == UNKNOWN_SIZE and element_id != SEGMENT:
            return  # a Cluster being written: what we need (Tracks) came before it
        at = stop


def _fields(reader: _Reader, span: Span) -> dict[int, Span]:
    return {element_id: (start, end) for element_id, start, end in _elements(reader, span)}


def _uint(reader: _Reader, span: Span) -> int:
    start, end = span
    if not 0 < end - start <= 8:
        raise _refuse("an EBML number has a bad size")
    return int.from_bytes(reader.read(start, end - start), "big")


def _webm_video_size(reader: _Reader, tracks: Span) -> tuple[int, int] | None:
    for entry_id, entry_start, entry_end in _elements(reader, tracks):
        if entry_id != TRACK_ENTRY:
            continue
        entry = _fields(reader, (entry_start, entry_end))
        if TRACK_TYPE in entry and _uint(reader, entry[TRACK_TYPE]) == VIDEO_TRACK and VIDEO in entry:
            video = _fields(reader, entry[VIDEO])
            if PIXEL_WIDTH in video and PIXEL_HEIGHT in video:
                return _uint(reader, video[PIXEL_WIDTH]), _uint(reader, video[PIXEL_HEIGHT])
    return None


def _webm(reader: _Reader, length: int) -> ClipHeader:
    top = _elements(reader, (0, length))
    first = next(top, None)
    if first is None or first[0] != EBML_HEADER:
        raise _refuse("a WebM starts with an EBML header")
    doc_type = _fields(reader, first[1:]).get(DOC_TYPE)
    if (
        doc_type is None
        or doc_type[1] - doc_type[0] > MAX_DOC_TYPE
        or reader.read(doc_type[0], doc_type[1] - doc_type[0]).rstrip(b"\0") != b"webm"
    ):
        raise _refuse("the EBML DocType is not 'webm'")
    segment = next(((start, end) for element_id, start, end in top if element_id == SEGMENT), None)
    if segment is None:
        raise _refuse("the WebM has no Segment")
    for element_id, start, end in _elements(reader, segment):
        if element_id == TRACKS and (size := _webm_video_size(reader, (start, end))) is not None:
            return ClipHeader("video/webm", "webm", *size)
    raise _refuse("the WebM has no video track")


def identify_clip(path: Path) -> ClipHeader:
    """The container, media type and frame size of an MP4 or WebM clip; 415 naming what is wrong."""
    length = path.stat().st_size
    with path.open("rb") as source:
        start = source.read(8)
        reader = _Reader(source)
        if start[4:8] == b"ftyp":
            clip = _mp4(reader, length)
        elif start[:4] == EBML_HEADER.to_bytes(4, "big"):
            clip = _webm(reader, length)
        else:
            raise _refuse("neither an MP4 'ftyp' box nor a WebM EBML header")
    if not (0 < clip.width <= MAX_SIDE and 0 < clip.height <= MAX_SIDE):
        raise _refuse(f"its frame size {clip.width}x{clip.height} is not a camera's")
    return clip
