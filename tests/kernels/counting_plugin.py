"""Test-only `vllm.general_plugins` entry: the real `register()` plus a call counter.

Each MoE layer call our kernels serve appends one byte to `$KIMI_SWARM_TEST_CALLS_FILE`, so a
test can see, from outside the engine-core process, that our path really ran.
"""

from __future__ import annotations

import os
from typing import Any

from kernels import plugin


def register() -> None:
    plugin.register()
    path = os.environ.get("KIMI_SWARM_TEST_CALLS_FILE")
    if not plugin.enabled() or not path:
        return
    from kernels import vllm_moe

    run_layer = vllm_moe.run_layer

    def counted(*args: Any, **kwargs: Any) -> Any:
        with open(path, "a") as f:
            f.write("x")
        return run_layer(*args, **kwargs)

    vllm_moe.run_layer = counted
