"""Image bytes → RGB `PIL.Image`, checked, exactly as vLLM 0.32's `ImageMediaIO` does it.

vLLM's order (which we must reproduce for equal pixels): open, EXIF-transpose,
load, then RGB conversion where RGBA and any transparency (LA, PA, `tRNS`)
are composited on white and every other mode goes through `convert("RGB")`.
"""

from __future__ import annotations

import io

from PIL import Image, ImageOps

from media.config import MediaLimits
from media.errors import MediaError
from media.sniff import PIL_FORMATS, Kind, sniff

_ORIENTATION_TAG = 0x0112
WHITE = (255, 255, 255)


def open_checked(data: bytes, limits: MediaLimits) -> Image.Image:
    """Open lazily and refuse by header alone: format, size, pixel count (bombs)."""
    if not data:
        raise MediaError("the image is empty (0 bytes)", code="empty_media")
    kind = sniff(data)
    if kind is None or kind[1] is not Kind.IMAGE:
        raise MediaError(
            "the image is not a supported format (JPEG, PNG, WebP, GIF, BMP); "
            "its leading bytes do not match any",
            code="unsupported_media_type",
        )
    try:
        image = Image.open(io.BytesIO(data), formats=PIL_FORMATS[kind[0]])
    except Image.DecompressionBombError as exc:
        raise MediaError(f"the image is too large: {exc}", code="media_too_large") from exc
    except (OSError, ValueError) as exc:
        raise MediaError(
            f"the {kind[0]} image cannot be read: {exc}", code="corrupt_media"
        ) from exc
    w, h = image.size
    max_pixels = min(limits.max_pixels, Image.MAX_IMAGE_PIXELS or limits.max_pixels)
    if w < 1 or h < 1:
        raise MediaError("the image has a zero dimension", code="empty_media")
    if w > limits.max_side or h > limits.max_side or w * h > max_pixels:
        raise MediaError(
            f"the image is {w}x{h}; the limit is {limits.max_side} px per side and "
            f"{max_pixels} pixels in all",
            code="media_too_large",
        )
    return image


def to_rgb(image: Image.Image) -> Image.Image:
    """EXIF-orient, decode and convert to RGB the way vLLM does (see module doc)."""
    if image.getexif().get(_ORIENTATION_TAG, 1) in range(2, 9):
        image = ImageOps.exif_transpose(image)
    image.load()
    if image.mode == "RGB":
        return image
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        rgba = image if image.mode == "RGBA" else image.convert("RGBA")
        canvas = Image.new("RGB", rgba.size, WHITE)
        canvas.paste(rgba, mask=rgba.getchannel("A"))
        return canvas
    return image.convert("RGB")


def decode_image(data: bytes, limits: MediaLimits) -> Image.Image:
    """Bytes → checked RGB image; every failure is a `MediaError`."""
    image = open_checked(data, limits)
    try:
        return to_rgb(image)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise MediaError(
            f"the image data is corrupt or truncated: {exc}", code="corrupt_media"
        ) from exc
