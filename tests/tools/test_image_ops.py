"""image_ops on generated images: each op, bad references, bad arguments, bad bytes."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from tools.base import ToolContext, ToolRegistry
from tools.image_ops import ImageOpsTool


def png(width: int = 80, height: int = 40) -> bytes:
    """Left half red, right half white."""
    img = Image.new("RGB", (width, height), "white")
    img.paste((255, 0, 0), (0, 0, width // 2, height))
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


CTX = ToolContext(images=[png(), b"not an image"], multimodal=True)
REG = ToolRegistry([ImageOpsTool()])


async def op(**args: object) -> tuple[str, Image.Image | None]:
    result = await REG.invoke("image_ops", {"image": "image:0", **args}, CTX)
    if result.is_error:
        return result.text, None
    assert len(result.images) == 1
    return result.text, Image.open(io.BytesIO(result.images[0]))


async def test_crop_keeps_the_box() -> None:
    text, img = await op(op="crop", box=[0, 0, 20, 10])
    assert img is not None and img.size == (20, 10)
    assert img.getpixel((5, 5)) == (255, 0, 0)
    assert "crop of image:0 (80x40) -> new 20x10 PNG" in text


async def test_zoom_magnifies_around_a_point() -> None:
    _, img = await op(op="zoom", factor=4, center=[70, 20])
    assert img is not None and img.size == (80, 40)
    assert img.getpixel((40, 20)) == (255, 255, 255)  # zoomed into the white half


async def test_rotate_grayscale_threshold() -> None:
    _, rotated = await op(op="rotate", degrees=90)
    _, gray = await op(op="grayscale")
    _, binary = await op(op="threshold", level=200)
    assert rotated is not None and rotated.size == (40, 80)
    assert gray is not None and gray.mode == "L"
    assert binary is not None and binary.mode == "1"
    assert binary.getpixel((5, 5)) == 0 and binary.getpixel((75, 5)) == 255


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        ({"image": "image:7", "op": "grayscale"}, "does not exist"),
        ({"image": "picture0", "op": "grayscale"}, "must look like 'image:0'"),
        ({"image": "image:1", "op": "grayscale"}, "cannot be decoded"),
        ({"image": "image:0", "op": "blur"}, "unknown op"),
        ({"image": "image:0", "op": "crop"}, "'box' must be a list of 4"),
        ({"image": "image:0", "op": "crop", "box": [50, 50, 60, 60]}, "box is empty"),
        ({"image": "image:0", "op": "zoom", "factor": 100}, "between 1 and 16"),
        ({"image": "image:0", "op": "threshold", "level": 300}, "between 0 and 255"),
        ({"op": "grayscale"}, "'image' is required"),
    ],
)
async def test_bad_arguments(args: dict, needle: str) -> None:
    result = await REG.invoke("image_ops", args, CTX)
    assert result.is_error and needle in result.text and not result.images


async def test_no_images_in_request() -> None:
    result = await REG.invoke("image_ops", {"image": "image:0", "op": "grayscale"}, ToolContext())
    assert result.is_error and "has no images" in result.text
