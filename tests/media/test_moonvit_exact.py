"""Our preprocessor equals vLLM 0.32's `KimiK25FusedVisionProcessor` bit for bit."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from PIL import Image

from media.config import MediaLimits, MoonViTConfig
from media.decode import decode_image
from media.moonvit import MoonViTProcessor
from media.resize import plan_resize
from tests.media.conftest import encode, gradient

fused = pytest.importorskip("vllm.transformers_utils.processors.kimi_k25_vision_fused")
media_image = pytest.importorskip("vllm.multimodal.media.image")

KIMI_CFG = {
    "patch_size": 14,
    "merge_kernel_size": 2,
    "in_patch_limit": 16384,
    "patch_limit_on_one_side": 512,
    "in_patch_limit_each_frame": 4096,
    "in_patch_limit_video": None,
    "fixed_output_tokens": None,
    "image_mean": [0.5, 0.5, 0.5],
    "image_std": [0.5, 0.5, 0.5],
    "sample_fps": 2.0,
    "temporal_merge_kernel_size": 4,
}


def _rgb(w: int, h: int) -> Image.Image:
    return Image.fromarray(gradient(w, h))


def _exif_rotated() -> bytes:
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise on display
    return encode(_rgb(300, 120), "JPEG", exif=exif.tobytes(), quality=90)


def _palette(transparent: bool) -> bytes:
    image = _rgb(90, 70).quantize(64)
    return encode(image, "PNG", transparency=3) if transparent else encode(image, "PNG")


CASES: dict[str, Callable[[], bytes]] = {
    "1x1": lambda: encode(_rgb(1, 1), "PNG"),
    "4000x3000-jpeg": lambda: encode(_rgb(4000, 3000), "JPEG", quality=85),
    "extreme-wide": lambda: encode(_rgb(9000, 20), "PNG"),
    "extreme-tall": lambda: encode(_rgb(15, 7000), "PNG"),
    "odd-27x29": lambda: encode(_rgb(27, 29), "PNG"),
    "side-limit": lambda: encode(_rgb(7200, 900), "JPEG"),
    "grayscale": lambda: encode(_rgb(333, 222).convert("L"), "PNG"),
    "rgba": lambda: encode(
        Image.fromarray(np.dstack([gradient(200, 150), gradient(200, 150, 1)[..., 0]])), "PNG"
    ),
    "la": lambda: encode(_rgb(64, 48).convert("LA"), "PNG"),
    "palette": lambda: _palette(False),
    "palette-transparent": lambda: _palette(True),
    "exif-rotated-jpeg": _exif_rotated,
    "webp": lambda: encode(_rgb(640, 480), "WEBP", quality=80),
    "webp-rgba": lambda: encode(_rgb(120, 90).convert("RGBA"), "WEBP", lossless=True),
    "gif": lambda: encode(_rgb(100, 100).convert("P"), "GIF"),
    "cmyk-jpeg": lambda: encode(_rgb(100, 80).convert("CMYK"), "JPEG"),
}


@pytest.fixture(scope="module")
def vllm_proc() -> object:
    return fused.KimiK25FusedVisionProcessor(KIMI_CFG)


@pytest.fixture(scope="module")
def ours() -> MoonViTProcessor:
    return MoonViTProcessor(MoonViTConfig.from_dict(KIMI_CFG))


def _vllm_decode(data: bytes) -> Image.Image:
    return media_image.ImageMediaIO(image_mode="RGB").load_bytes(data).media


@pytest.mark.parametrize("name", list(CASES))
def test_image_equals_vllm(name: str, vllm_proc: object, ours: MoonViTProcessor) -> None:
    data = CASES[name]()
    theirs_img = _vllm_decode(data)
    our_img = decode_image(data, MediaLimits())
    assert np.array_equal(np.asarray(theirs_img), np.asarray(our_img))
    expected = vllm_proc.preprocess([{"type": "image", "image": theirs_img}])  # type: ignore[attr-defined]
    got = ours.process([our_img])
    assert np.array_equal(expected["grid_thws"].numpy(), got.grid_thws)
    assert np.array_equal(expected["pixel_values"].numpy(), got.pixel_values)  # tolerance 0
    want_tokens = vllm_proc.media_tokens_calculator({"type": "image", "image": theirs_img})  # type: ignore[attr-defined]
    assert ours.num_tokens(our_img) == want_tokens


def test_batch_and_chunk_packing_equals_vllm(vllm_proc: object, ours: MoonViTProcessor) -> None:
    images = [_rgb(w, h) for w, h in [(50, 40), (1000, 30), (700, 700)]]
    chunk = [_rgb(300, 200) for _ in range(3)]
    medias = [{"type": "image", "image": i} for i in images] + [
        {"type": "video_chunk", "video_chunk": chunk}
    ]
    expected = vllm_proc.preprocess(medias)  # type: ignore[attr-defined]
    got = ours.process([*images, chunk])
    assert np.array_equal(expected["grid_thws"].numpy(), got.grid_thws)
    assert np.array_equal(expected["pixel_values"].numpy(), got.pixel_values)


def test_uint8_mode_equals_vllm_device_normalise_path(
    vllm_proc: object, ours: MoonViTProcessor
) -> None:
    images = [_rgb(w, h) for w, h in [(1, 1), (333, 71), (2000, 1500)]]
    medias = [{"type": "image", "image": i} for i in images]
    expected = vllm_proc.preprocess(medias, do_rescale=False, do_normalize=False)  # type: ignore[attr-defined]
    got = ours.process(images, normalize=False)
    assert expected["pixel_values"].numpy().dtype == got.pixel_values.dtype == np.uint8
    assert np.array_equal(expected["pixel_values"].numpy(), got.pixel_values)


def test_plan_matches_vllm_formula_on_a_sweep() -> None:
    cfg = MoonViTConfig.from_dict(KIMI_CFG)
    rng = np.random.default_rng(3)
    for w, h in rng.integers(1, 12000, size=(300, 2)):
        plan = plan_resize(int(w), int(h), cfg)
        ref = fused.navit_resize_image(int(w), int(h), 14, 2, 16384, 512, None)
        assert (plan.width, plan.height, plan.pad_width, plan.pad_height, plan.num_tokens) == (
            ref["new_width"],
            ref["new_height"],
            ref["pad_width"],
            ref["pad_height"],
            ref["num_tokens"],
        )


def test_content_hash_cache_returns_the_same_patches(ours: MoonViTProcessor) -> None:
    data = encode(_rgb(90, 60), "PNG")
    first = ours.process_image_bytes(data)
    assert ours.process_image_bytes(data) is first
