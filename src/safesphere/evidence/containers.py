"""Video clips proven by their container, never by their name or content type: an MP4 is an ISO BMFF file
whose first box is ``ftyp`` and which holds a ``moov`` with a video track (``hdlr`` ``vide``, its size
from ``tkhd``); a WebM is an EBML file whose header says DocType ``webm`` and whose Segment's Tracks hold
a video track (TrackType 1, PixelWidth/PixelHeight). Box and element sizes are checked against the file,
so a truncated or forged header is refused. Frames are not decoded: the browser that plays it does."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from safesphere.core.errors import UnsupportedMediaType

NOT_A_CLIP = "The file is not an MP4 or WebM video clip"
MAX_SIDE = 16384
"""Wider or taller than any camera frame: a forged header."""

EBML_HEADER, DOC_TYPE, SEGMENT, TRACKS, TRACK_ENTRY = 0x1A45DFA3, 0x4282, 0x18538067, 0x1654AE6B, 0xAE
TRACK_TYPE, VIDEO, PIXEL_WIDTH, PIXEL_HEIGHT = 0x83, 0xE0, 0xB0, 0xBA
VIDEO_TRACK = 1
UNKNOWN_SIZE = -1


@dataclass(frozen=True)
class ClipHeader:
    media_type: str
    extension: str
    width: int
    height: int


def _refuse(reason: str) -> UnsupportedMediaType:
    return UnsupportedMediaType(f"{NOT_A_CLIP}: {reason}")


def _read(source: BinaryIO, at: int, count: int) -> bytes:
    source.seek(at)
    data = source.read(count)
    if len(data) != count:
        raise _refuse("it ends inside a header")
    return data


# ---------- MP4 (ISO base media file format) ----------
def _boxes(source: BinaryIO, start: int, end: int) -> list[tuple[bytes, int, int]]:
    """The boxes between ``start`` and ``end``: (type, payload start, box end), each inside its parent."""
    found, at = [], start
    while at < end:
        if end - at < 8:
            raise _refuse("a box header is cut off")
        header = _read(source, at, 8)
        size, kind = int.from_bytes(header[:4], "big"), header[4:]
        payload = at + 8
        if size == 1:
            size, payload = int.from_bytes(_read(source, at + 8, 8), "big"), at + 16
        elif size == 0:
            size = end - at  # to the end of its parent
        if size < payload - at or at + size > end:
            raise _refuse(f"the {kind.decode('latin-1')!r} box runs past its end")
        found.append((kind, payload, at + size))
        at += size
    return found


def _mp4_video_size(source: BinaryIO, trak: tuple[int, int]) -> tuple[int, int] | None:
    children = {kind: (start, end) for kind, start, end in _boxes(source, *trak)}
    if b"tkhd" not in children or b"mdia" not in children:
        return None
    mdia = {kind: (start, end) for kind, start, end in _boxes(source, *children[b"mdia"])}
    if b"hdlr" not in mdia or _read(source, mdia[b"hdlr"][0] + 8, 4) != b"vide":
        return None
    start, end = children[b"tkhd"]
    if end - start < 8:
        raise _refuse("the track header is cut off")
    fixed = _read(source, end - 8, 8)  # width and height, 16.16 fixed point, end the track header
    return int.from_bytes(fixed[:4], "big") >> 16, int.from_bytes(fixed[4:], "big") >> 16


def _mp4(source: BinaryIO, length: int) -> ClipHeader:
    top = _boxes(source, 0, length)
    if not top or top[0][0] != b"ftyp":
        raise _refuse("an MP4 starts with an 'ftyp' box")
    moov = [(start, end) for kind, start, end in top if kind == b"moov"]
    if len(moov) != 1:
        raise _refuse("an MP4 holds one 'moov' box")
    for kind, start, end in _boxes(source, *moov[0]):
        if kind == b"trak" and (size := _mp4_video_size(source, (start, end))) is not None:
            return ClipHeader("video/mp4", "mp4", *size)
    raise _refuse("the MP4 has no video track")


# ---------- WebM (EBML, Matroska) ----------
def _vint(source: BinaryIO, at: int, *, keep_marker: bool) -> tuple[int, int]:
    """An EBML variable-length integer at ``at``: (value, its length in bytes)."""
    first = _read(source, at, 1)[0]
    length = next((n for n in range(1, 9) if first & (0x80 >> (n - 1))), 0)
    if length == 0:
        raise _refuse("an EBML number is malformed")
    data = first.to_bytes(1, "big") + (_read(source, at + 1, length - 1) if length > 1 else b"")
    value = int.from_bytes(data, "big")
    if keep_marker:
        return value, length
    value &= (1 << (7 * length)) - 1
    return (UNKNOWN_SIZE if value == (1 << (7 * length)) - 1 else value), length


def _elements(source: BinaryIO, start: int, end: int) -> list[tuple[int, int, int]]:
    """The elements between ``start`` and ``end``: (id, payload start, element end). An element of
    unknown size (a live recording's Segment or Cluster) reaches to the end of its parent."""
    found, at = [], start
    while at < end:
        element_id, id_length = _vint(source, at, keep_marker=True)
        size, size_length = _vint(source, at + id_length, keep_marker=False)
        payload = at + id_length + size_length
        stop = end if size == UNKNOWN_SIZE else payload + size
        if stop > end:
            raise _refuse("an EBML element runs past its end")
        found.append((element_id, payload, stop))
        if size == UNKNOWN_SIZE and element_id != SEGMENT:
            break  # a Cluster being written: what we need (Tracks) came before it
        at = stop
    return found


def _uint(source: BinaryIO, start: int, end: int) -> int:
    if not 0 < end - start <= 8:
        raise _refuse("an EBML number has a bad size")
    return int.from_bytes(_read(source, start, end - start), "big")


def _webm(source: BinaryIO, length: int) -> ClipHeader:
    top = _elements(source, 0, length)
    if not top or top[0][0] != EBML_HEADER:
        raise _refuse("a WebM starts with an EBML header")
    header = {element_id: (start, end) for element_id, start, end in _elements(source, *top[0][1:])}
    if (
        DOC_TYPE not in header
        or _read(source, header[DOC_TYPE][0], header[DOC_TYPE][1] - header[DOC_TYPE][0])[:4].rstrip(b"\0")
        != b"webm"
    ):
        raise _refuse("the EBML DocType is not 'webm'")
    segments = [(start, end) for element_id, start, end in top[1:] if element_id == SEGMENT]
    if not segments:
        raise _refuse("the WebM has no Segment")
    for element_id, start, end in _elements(source, *segments[0]):
        if element_id != TRACKS:
            continue
        for entry_id, entry_start, entry_end in _elements(source, start, end):
            if entry_id != TRACK_ENTRY:
                continue
            entry = {i: (s, e) for i, s, e in _elements(source, entry_start, entry_end)}
            if TRACK_TYPE in entry and _uint(source, *entry[TRACK_TYPE]) == VIDEO_TRACK and VIDEO in entry:
                video = {i: (s, e) for i, s, e in _elements(source, *entry[VIDEO])}
                if PIXEL_WIDTH in video and PIXEL_HEIGHT in video:
                    return ClipHeader(
                        "video/webm",
                        "webm",
                        _uint(source, *video[PIXEL_WIDTH]),
                        _uint(source, *video[PIXEL_HEIGHT]),
                    )
    raise _refuse("the WebM has no video track")


def identify_clip(path: Path) -> ClipHeader:
    """The container, media type and frame size of an MP4 or WebM clip; 415 naming what is wrong."""
    length = path.stat().st_size
    with path.open("rb") as source:
        start = source.read(8)
        if start[4:8] == b"ftyp":
            clip = _mp4(source, length)
        elif start[:4] == EBML_HEADER.to_bytes(4, "big"):
            clip = _webm(source, length)
        else:
            raise _refuse("neither an MP4 'ftyp' box nor a WebM EBML header")
    if not (0 < clip.width <= MAX_SIDE and 0 < clip.height <= MAX_SIDE):
        raise _refuse(f"its frame size {clip.width}x{clip.height} is not a camera's")
    return clip
