"""vLLM general plugin (entry point `kimi_swarm_media`): route Kimi K2.5 media through us.

Three small hooks, installed in every vLLM process:
1. `kimi_k25.KimiK25FusedVisionProcessor` → `KimiSwarmVisionProcessor` (the name
   `KimiK25ProcessingInfo` looks up when it builds the image processor);
2. `KimiK25MultiModalProcessor.split_video_chunks` (vLLM's renderer calls it when present);
3. video loader `kimi_swarm`, chosen with `media_io_kwargs={"video": {"video_backend": "kimi_swarm"}}`.

1 and 2 are applied when vLLM imports `kimi_k25` (an import hook), never earlier:
importing it here would load numba before vLLM's CPU worker scans all modules for
Triton kernels, and that scan fails on llvmlite objects.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import logging
import sys
from types import ModuleType

logger = logging.getLogger(__name__)
TARGET = "vllm.model_executor.models.kimi_k25"
_done: list[bool] = []


def _patch(module: ModuleType) -> None:
    from media import vllm_glue

    module.KimiK25FusedVisionProcessor = vllm_glue.KimiSwarmVisionProcessor  # type: ignore[attr-defined]
    module.KimiK25MultiModalProcessor.split_video_chunks = vllm_glue.split_video_chunks


class _PatchOnImport(importlib.abc.MetaPathFinder):
    """Finds `TARGET` through the normal finders, then patches it right after it executes."""

    def find_spec(
        self, name: str, path: object = None, target: object = None
    ) -> importlib.machinery.ModuleSpec | None:
        if name != TARGET:
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None:
            return spec
        loader = spec.loader
        run = loader.exec_module

        def exec_and_patch(module: ModuleType) -> None:
            run(module)
            _patch(module)

        loader.exec_module = exec_and_patch  # type: ignore[method-assign]
        return spec


def register() -> None:
    """Install the hooks once per process; a vLLM without these modules is left alone."""
    if _done:
        return
    _done.append(True)
    try:
        from vllm.multimodal.video import VIDEO_LOADER_REGISTRY

        from media.vllm_video import KimiSwarmVideoLoader
    except ImportError as exc:
        logger.warning("kimi-swarm media plugin not installed: %s", exc)
        return
    VIDEO_LOADER_REGISTRY.register("kimi_swarm")(KimiSwarmVideoLoader)
    if TARGET in sys.modules:
        _patch(sys.modules[TARGET])
    else:
        sys.meta_path.insert(0, _PatchOnImport())
