"""vLLM video loader `kimi_swarm`: bytes (or a slice envelope) → sampled, NaViT-sized frames.

Select it with `media_io_kwargs={"video": {"video_backend": "kimi_swarm"}}`. PyAV
decodes only the sampled frames of the requested range; results are shared with
`resolve_media`/`slice_media` through `store.CHUNKS`, so a video checked at the HTTP
edge is not decoded again here.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from vllm.multimodal.video import VideoLoader

from media.config import MediaLimits, MoonViTConfig
from media.errors import MediaError
from media.store import ENGINE_CFG, unwrap_slice, video_chunks


class KimiSwarmVideoLoader(VideoLoader):
    """vLLM video loader: bytes (or a slice envelope) → sampled, resized frames."""

    @classmethod
    def load_bytes(
        cls, data: bytes, num_frames: int = -1, **kwargs: Any
    ) -> tuple[np.ndarray, dict[str, Any]]:
        raw, start, end = unwrap_slice(data)
        cfg = ENGINE_CFG[0] if ENGINE_CFG else MoonViTConfig()
        try:
            chunks = video_chunks(raw, cfg, MediaLimits(), start, end)
        except MediaError as exc:  # vLLM answers ValueError with a 400
            raise ValueError(exc.message) from exc
        frames = np.stack([f for chunk in chunks for f in chunk.frames])
        meta = {
            "total_num_frames": len(frames),
            "fps": cfg.sample_fps,
            "duration": (end or 0.0) - start,
            "video_backend": "kimi_swarm",
            "frames_indices": list(range(len(frames))),
            "do_sample_frames": False,
            "kimi_chunk_starts": [chunk.start for chunk in chunks],
            "kimi_source_size": getattr(chunks[0].frames[0], "source_size", None),
        }
        return frames, meta
