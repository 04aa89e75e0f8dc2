"""The vLLM-side classes our plugin installs (imported only inside vLLM processes).

- `KimiSwarmVisionProcessor`: vLLM's `KimiK25FusedVisionProcessor` API with our
  `MoonViTProcessor` doing the work (identical output, see `moonvit.py`).
- `split_video_chunks`: what vLLM 0.32's Kimi K2.5 processor lacks; vLLM's chat
  renderer calls it to turn one video into 4-frame chunks, each with its prompt
  `hh:mm:ss.fff<|media_begin|>video<|media_content|><|media_pad|><|media_end|>`
  that replaces the model's `video_placeholder` in the rendered prompt.

Importing this module imports numba (via vLLM's fused module), so the plugin loads
it only when vLLM itself imports its Kimi K2.5 model module (see `plugin.py`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from transformers.image_processing_utils import BatchFeature
from vllm.transformers_utils.processors.kimi_k25_vision_fused import (
    KimiK25FusedVisionProcessor,
    _ensure_media_type,
)

from media.config import MoonViTConfig
from media.moonvit import MoonViTProcessor, Visual, with_source
from media.store import ENGINE_CFG
from media.video import format_timestamp

CHUNK_BODY = "<|media_begin|>video<|media_content|>{pad}<|media_end|>"


def _visual(media: dict[str, Any]) -> Visual:
    if media["type"] == "video_chunk":
        frames = media["video_chunk"]
        if all(isinstance(f, np.ndarray) for f in frames):
            return list(frames)
    media = _ensure_media_type(dict(media))
    return media["image"] if media["type"] == "image" else media["video_chunk"]


class KimiSwarmVisionProcessor(KimiK25FusedVisionProcessor):
    """Drop-in for vLLM's fused processor; only `preprocess` and token counts change."""

    def __init__(self, media_proc_cfg: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(media_proc_cfg, **kwargs)
        self.moonvit = MoonViTProcessor(MoonViTConfig.from_dict(self.media_proc_cfg))
        ENGINE_CFG[:] = [self.moonvit.cfg]

    def media_tokens_calculator(self, media: dict[str, Any]) -> int:
        return self.moonvit.num_tokens(_visual(media))

    def preprocess(
        self,
        medias: list[dict[str, Any]],
        return_tensors: Any = None,
        do_rescale: bool = True,
        do_normalize: bool = True,
    ) -> BatchFeature:
        # do_normalize=False: vLLM normalises on the device and wants raw uint8 patches.
        medias = medias if isinstance(medias, list) else [medias]
        if not medias:
            return BatchFeature(data={}, tensor_type=return_tensors)
        patches = self.moonvit.process([_visual(m) for m in medias], normalize=do_normalize)
        data = {
            "pixel_values": torch.from_numpy(patches.pixel_values),
            "grid_thws": torch.from_numpy(patches.grid_thws),
        }
        return BatchFeature(data=data, tensor_type=return_tensors)


def _chunk_starts(
    frames: np.ndarray, meta: dict[str, Any], k: int, fps_cap: float
) -> tuple[np.ndarray, list[float]]:
    """Frames to keep and each chunk's start time; resamples other loaders' output."""
    if "kimi_chunk_starts" in meta:
        return frames, list(meta["kimi_chunk_starts"])
    fps = float(meta.get("fps") or 1.0)
    indices = list(meta.get("frames_indices") or range(len(frames)))
    step = max(1.0, fps / fps_cap) if meta.get("do_sample_frames", True) else 1.0
    keep = sorted(
        {min(len(frames) - 1, round(i * step)) for i in range(max(1, round(len(frames) / step)))}
    )
    times = [indices[i] / fps for i in keep]
    return frames[keep], [times[i] for i in range(0, len(keep), k)]


def split_video_chunks(self: Any, video: Any) -> list[dict[str, Any]]:
    """One decoded video → chunk dicts `{"video_chunk": [frames], "prompt": str}`."""
    frames, meta = video[0], video[1]
    processor = self.info.image_processor
    k = int(processor.num_frames_per_chunk)
    fps_cap = float(processor.media_proc_cfg.get("sample_fps", 2.0))
    frames, starts = _chunk_starts(np.asarray(frames), meta, k, fps_cap)
    if meta.get("kimi_source_size"):
        frames = with_source(frames, tuple(meta["kimi_source_size"]))
    body = CHUNK_BODY.format(pad=self.info.media_token)
    return [
        {"video_chunk": list(frames[i * k : (i + 1) * k]), "prompt": format_timestamp(start) + body}
        for i, start in enumerate(starts)
    ]
