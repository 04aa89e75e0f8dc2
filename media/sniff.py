"""Magic-byte sniffing: what a blob really is, whatever its URL or MIME says."""

from __future__ import annotations

from enum import Enum


class Kind(Enum):
    IMAGE = "image"
    VIDEO = "video"


# (prefix offset, prefix bytes, format name, kind); checked in order.
_SIGNATURES: tuple[tuple[int, bytes, str, Kind], ...] = (
    (0, b"\xff\xd8\xff", "jpeg", Kind.IMAGE),
    (0, b"\x89PNG\r\n\x1a\n", "png", Kind.IMAGE),
    (0, b"GIF87a", "gif", Kind.IMAGE),
    (0, b"GIF89a", "gif", Kind.IMAGE),
    (0, b"BM", "bmp", Kind.IMAGE),
    (4, b"ftyp", "mp4", Kind.VIDEO),
    (0, b"\x1a\x45\xdf\xa3", "matroska", Kind.VIDEO),
)


def sniff(data: bytes) -> tuple[str, Kind] | None:
    """Return `(format, kind)` from the leading bytes, or None when unknown."""
    if len(data) >= 12 and data[:4] == b"RIFF":
        if data[8:12] == b"WEBP":
            return "webp", Kind.IMAGE
        if data[8:12] == b"AVI ":
            return "avi", Kind.VIDEO
    if data[4:12] in (b"ftypavif", b"ftypavis"):
        return "avif", Kind.IMAGE
    for offset, magic, name, kind in _SIGNATURES:
        if data[offset : offset + len(magic)] == magic:
            return name, kind
    return None


# PIL format names each sniffed image format may decode as.
PIL_FORMATS = {
    "jpeg": ("JPEG",),
    "png": ("PNG",),
    "gif": ("GIF",),
    "bmp": ("BMP",),
    "webp": ("WEBP",),
    "avif": ("AVIF",),
}
