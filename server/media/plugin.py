"""vLLM general plugin (entry point `kimi_swarm_media`): route Kimi K2.5 media through us.

Three small, reversible hooks, installed in every vLLM process:
1. `kimi_k25.KimiK25FusedVisionProcessor` → `KimiSwarmVisionProcessor` (the name
   `KimiK25ProcessingInfo` looks up when it builds the image processor);
2. `KimiK25MultiModalProcessor.split_video_chunks` (vLLM's renderer calls it when present);
3. video loader `kimi_swarm`, chosen with `media_io_kwargs={"video": {"video_backend": "kimi_swarm"}}`.
"""

from __future__ import annotations

import logging

logger = logging.getLogger(__name__)
_done: list[bool] = []


def register() -> None:
    """Install the hooks once per process; a vLLM without Kimi K2.5 is left alone."""
    if _done:
        return
    try:
        from vllm.model_executor.models import kimi_k25
        from vllm.multimodal.video import VIDEO_LOADER_REGISTRY

        from server.media import vllm_glue
    except ImportError as exc:  # another vLLM version: keep its own processor
        logger.warning("kimi-swarm media plugin not installed: %s", exc)
        return
    kimi_k25.KimiK25FusedVisionProcessor = vllm_glue.KimiSwarmVisionProcessor
    kimi_k25.KimiK25MultiModalProcessor.split_video_chunks = vllm_glue.split_video_chunks
    VIDEO_LOADER_REGISTRY.register("kimi_swarm")(vllm_glue.KimiSwarmVideoLoader)
    _done.append(True)
