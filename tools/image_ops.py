"""The `image_ops(image, op, ...)` tool: crop, zoom, rotate, grayscale, threshold.

`image` names one of the request's images (`image:N` -> `ToolContext.images[N]`).
The result is a new PNG in `ToolResult.images` (shown to multimodal models) plus a
short text description for text-only ones.
"""

from __future__ import annotations

import asyncio
import io
import re
from collections.abc import Callable
from dataclasses import dataclass

from PIL import Image, ImageOps, ImageStat, UnidentifiedImageError

from tools.args import num_list, opt_float, opt_int, req_str
from tools.base import Json, ToolContext, ToolError, ToolResult, ToolSpec

MAX_PIXELS = 40_000_000  # refuse decompression bombs before decoding
MAX_SIDE = 4096  # longest side of a result
_REF = re.compile(r"^image:(\d+)$")

SPEC = ToolSpec(
    name="image_ops",
    description=(
        "Transform one of the user's images and look at the result: crop (box in pixels), "
        "zoom (into a point, by a factor), rotate (degrees counter-clockwise), grayscale, "
        "threshold (black/white at a level 0-255). Returns a new image."
    ),
    parameters={
        "type": "object",
        "properties": {
            "image": {"type": "string", "description": "Which image, e.g. image:0."},
            "op": {"type": "string", "enum": ["crop", "zoom", "rotate", "grayscale", "threshold"]},
            "box": {
                "type": "array",
                "items": {"type": "number"},
                "minItems": 4,
                "maxItems": 4,
                "description": "crop: [left, top, right, bottom] in pixels.",
            },
            "factor": {"type": "number", "description": "zoom: magnification, 1-16 (default 2)."},
            "center": {
                "type": "array",
                "items": {"type": "number"},
                "minItems": 2,
                "maxItems": 2,
                "description": "zoom: [x, y] in pixels to zoom into (default: the middle).",
            },
            "degrees": {"type": "number", "description": "rotate: angle, counter-clockwise."},
            "level": {"type": "integer", "description": "threshold: 0-255 (default 128)."},
        },
        "required": ["image", "op"],
        "additionalProperties": False,
    },
    timeout_s=30.0,
)


def load(ref: str, images: tuple[bytes, ...] | list[bytes]) -> Image.Image:
    match = _REF.match(ref.strip())
    if not match:
        raise ToolError(f"image must look like 'image:0', got {ref!r}")
    index = int(match.group(1))
    if index >= len(images):
        have = f"image:0 to image:{len(images) - 1}" if images else "no images"
        raise ToolError(f"{ref} does not exist; this request has {have}")
    if not images[index]:
        raise ToolError(f"{ref} is not attached to this task (attach it with assign_task)")
    try:
        img = Image.open(io.BytesIO(images[index]))
        if img.width * img.height > MAX_PIXELS:
            raise ToolError(f"{ref} is too large ({img.width}x{img.height})")
        img.load()
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise ToolError(f"{ref} cannot be decoded ({exc})") from exc
    return img


def crop(img: Image.Image, args: Json) -> Image.Image:
    left, top, right, bottom = num_list(args, "box", 4)
    left, right = max(0.0, left), min(float(img.width), right)
    top, bottom = max(0.0, top), min(float(img.height), bottom)
    if right - left < 1 or bottom - top < 1:
        raise ToolError(f"box is empty inside the {img.width}x{img.height} image")
    return img.crop((round(left), round(top), round(right), round(bottom)))


def zoom(img: Image.Image, args: Json) -> Image.Image:
    factor = opt_float(args, "factor", 2.0, 1.0, 16.0)
    cx, cy = num_list(args, "center", 2) if "center" in args else [img.width / 2, img.height / 2]
    w, h = img.width / factor, img.height / factor
    # Keep the window inside the image: zooming near an edge shifts it, never pads.
    left = min(max(0.0, cx - w / 2), img.width - w)
    top = min(max(0.0, cy - h / 2), img.height - h)
    window = img.crop((round(left), round(top), round(left + w), round(top + h)))
    return window.resize((img.width, img.height), Image.Resampling.BICUBIC)


def rotate(img: Image.Image, args: Json) -> Image.Image:
    degrees = opt_float(args, "degrees", 90.0, -360.0, 360.0)
    return img.rotate(degrees, expand=True, resample=Image.Resampling.BICUBIC)


def grayscale(img: Image.Image, args: Json) -> Image.Image:
    return ImageOps.grayscale(img)


def threshold(img: Image.Image, args: Json) -> Image.Image:
    level = opt_int(args, "level", 128, 0, 255)
    return ImageOps.grayscale(img).point(lambda v: 255 if v >= level else 0, mode="1")


OPS: dict[str, Callable[[Image.Image, Json], Image.Image]] = {
    "crop": crop,
    "zoom": zoom,
    "rotate": rotate,
    "grayscale": grayscale,
    "threshold": threshold,
}


def apply(args: Json, images: tuple[bytes, ...] | list[bytes]) -> ToolResult:
    """Blocking: decode, transform, encode."""
    ref = req_str(args, "image", max_len=32)
    op = req_str(args, "op", max_len=32)
    if op not in OPS:
        raise ToolError(f"unknown op {op!r}; use one of: {', '.join(OPS)}")
    src = load(ref, images)
    out = OPS[op](src, args)
    if max(out.size) > MAX_SIDE:
        out.thumbnail((MAX_SIDE, MAX_SIDE))
    buf = io.BytesIO()
    out.save(buf, format="PNG")
    mean = ImageStat.Stat(out.convert("L")).mean[0]
    text = (
        f"{op} of {ref} ({src.width}x{src.height}) -> new {out.width}x{out.height} PNG image "
        f"(mode {out.mode}, mean brightness {mean:.0f}/255), attached below."
    )
    return ToolResult(text, images=[buf.getvalue()])


@dataclass(slots=True)
class ImageOpsTool:
    spec: ToolSpec = SPEC

    async def call(self, args: Json, ctx: ToolContext) -> ToolResult:
        return await asyncio.to_thread(apply, args, list(ctx.images))
