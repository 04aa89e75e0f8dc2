"""vLLM `general_plugins` entry point: `kernels.plugin:register` (see pyproject.toml).

vLLM calls `register()` in every process it starts. It does nothing unless
`KIMI_SWARM_FUSED_MOE=1` (the server's `--fused-moe` flag sets it before the engine starts);
then vLLM's bf16 and INT4 (compressed-tensors WNA16) MoE methods become ours.
"""

from __future__ import annotations

import logging
import os

from kernels import ENABLE_ENV

logger = logging.getLogger(__name__)


def enabled() -> bool:
    """Whether the fused MoE kernels were asked for."""
    return os.environ.get(ENABLE_ENV, "0") == "1"


def register() -> None:
    """Install the fused MoE methods when enabled; a cheap no-op otherwise."""
    if not enabled():
        return
    from kernels.vllm_moe import install

    if install():
        logger.info("kimi-swarm fused MoE kernels installed (%s=1)", ENABLE_ENV)
