"""Claim: our MoonViT-3D preprocessing beats vLLM 0.32's on images and video (CPU).

Images: the same decoded RGB images through vLLM's `KimiK25FusedVisionProcessor`
(numba) and our `MoonViTProcessor`, one batched call each, best of `--repeat`.
Video: one generated H.264 clip through vLLM's default path (OpenCV loader at 2 fps,
PIL frames, fused processor on 4-frame chunks) and ours (PyAV sampled decode +
`MoonViTProcessor`). Last line: JSON with both ratios (ours/vLLM; > 1 = faster).
"""

from __future__ import annotations

import argparse
import io
import json
import time
from collections.abc import Callable

import av
import numpy as np
from PIL import Image

from media.config import MediaLimits, MoonViTConfig
from media.moonvit import MoonViTProcessor
from media.video import load_chunks

KIMI = {
    "patch_size": 14, "merge_kernel_size": 2, "in_patch_limit": 16384, "patch_limit_on_one_side": 512,
    "in_patch_limit_each_frame": 4096, "in_patch_limit_video": None, "fixed_output_tokens": None,
    "image_mean": [0.5] * 3, "image_std": [0.5] * 3, "sample_fps": 2.0, "temporal_merge_kernel_size": 4,
}  # fmt: skip
SIZES = [
    (4000, 3000),
    (3000, 4000),
    (1920, 1080),
    (1920, 1080),
    (1280, 720),
    (1024, 768),
    (800, 600),
    (640, 480),
    (512, 512),
    (300, 7000),
    (6000, 200),
    (64, 64),
]


def image_set() -> list[Image.Image]:
    rng = np.random.default_rng(0)
    out = []
    for w, h in SIZES:
        y, x = np.mgrid[0:h, 0:w]
        base = np.stack([(x + y) % 256, (3 * y) % 256, (x * y) % 256], -1) + rng.integers(
            0, 16, (h, w, 3)
        )
        out.append(Image.fromarray(base.astype(np.uint8)))
    return out


def make_clip(seconds: float, fps: int = 30, width: int = 1280, height: int = 720) -> bytes:
    buf = io.BytesIO()
    with av.open(buf, "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=fps, options={"preset": "ultrafast"})
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        y, x = np.mgrid[0:height, 0:width]
        for i in range(int(seconds * fps)):
            frame = np.stack([(x + 4 * i) % 256, (y + i) % 256, (x ^ y) % 256], -1).astype(np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return buf.getvalue()


def best(fn: Callable[[], object], repeat: int) -> tuple[float, object]:
    result, times = None, []
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


def vllm_video(data: bytes, proc: object) -> object:
    from vllm.multimodal.video import VIDEO_LOADER_REGISTRY

    frames, _ = VIDEO_LOADER_REGISTRY.load("opencv").load_bytes(data, num_frames=-1, fps=2)
    pil = [Image.fromarray(f) for f in frames]
    chunks = [{"type": "video_chunk", "video_chunk": pil[i : i + 4]} for i in range(0, len(pil), 4)]
    return proc.preprocess(chunks)  # type: ignore[attr-defined]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--video-seconds", type=float, default=20.0)
    args = parser.parse_args()
    from vllm.transformers_utils.processors.kimi_k25_vision_fused import KimiK25FusedVisionProcessor

    theirs = KimiK25FusedVisionProcessor(KIMI)
    ours = MoonViTProcessor(MoonViTConfig.from_dict(KIMI))
    images = image_set()
    medias = [{"type": "image", "image": im} for im in images]
    theirs.preprocess(medias[-1:])  # numba JIT warm-up
    t_vllm, ref = best(lambda: theirs.preprocess(medias), args.repeat)
    t_ours, got = best(lambda: ours.process(images), args.repeat)
    max_diff = float(np.abs(ref["pixel_values"].numpy() - got.pixel_values).max())  # type: ignore[index, attr-defined]
    t_vllm_u8, _ = best(
        lambda: theirs.preprocess(medias, do_rescale=False, do_normalize=False), args.repeat
    )
    t_ours_u8, _ = best(lambda: ours.process(images, normalize=False), args.repeat)
    print(
        f"images: vLLM {len(images) / t_vllm:.2f}/s, ours {len(images) / t_ours:.2f}/s (uint8 mode: {len(images) / t_vllm_u8:.2f} vs {len(images) / t_ours_u8:.2f}), max |diff| {max_diff}"
    )

    clip = make_clip(args.video_seconds)
    cfg = MoonViTConfig.from_dict(KIMI)
    tv_vllm, _ = best(lambda: vllm_video(clip, theirs), args.repeat)
    tv_ours, _ = best(
        lambda: ours.process([c.frames for c in load_chunks(clip, cfg, MediaLimits())]), args.repeat
    )
    print(
        f"video ({args.video_seconds:g}s 1280x720 30fps H.264): vLLM {args.video_seconds / tv_vllm:.1f} video-s/s, ours {args.video_seconds / tv_ours:.1f} video-s/s"
    )
    ratio_img, ratio_vid = t_vllm / t_ours, tv_vllm / tv_ours
    print(json.dumps({
        "images": len(images), "vllm_images_per_s": round(len(images) / t_vllm, 3), "ours_images_per_s": round(len(images) / t_ours, 3),
        "ratio_vs_vllm_images_uint8": round(t_vllm_u8 / t_ours_u8, 3),
        "vllm_video_s_per_s": round(args.video_seconds / tv_vllm, 2), "ours_video_s_per_s": round(args.video_seconds / tv_ours, 2),
        "ratio_vs_vllm_images": round(ratio_img, 3), "ratio_vs_vllm_video": round(ratio_vid, 3), "ratio": round(ratio_img, 3),
        "max_abs_diff_images": max_diff,
    }))  # fmt: skip


if __name__ == "__main__":
    main()
