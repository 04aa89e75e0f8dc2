"""Tiny Kimi K2.5, same dummy weights: greedy tokens with our kernels == vLLM's default path.

Each side runs in a fresh process (two engine starts, ~1.5 min on 2 cores). The plugin reaches
the engine-core process through a test-only `vllm.general_plugins` entry point (a dist-info
folder on PYTHONPATH), exactly the way the installed package's entry point does.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[2]


def _plugin_path(tmp_path: Path) -> Path:
    dist = tmp_path / "site" / "kimi_swarm_kernels_test-0.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: kimi-swarm-kernels-test\n"
                                   "Version: 0.0\n")  # fmt: skip
    (dist / "entry_points.txt").write_text(
        "[vllm.general_plugins]\nkimi_swarm_kernels_test = tests.kernels.counting_plugin:register\n"
    )
    return dist.parent


def _generate(model: Path, site: Path, calls: Path, fused: bool) -> list[list[int]]:
    env = dict(os.environ, PYTHONPATH=f"{ROOT}{os.pathsep}{site}",
               KIMI_SWARM_TEST_CALLS_FILE=str(calls), VLLM_CPU_KVCACHE_SPACE="1",
               VLLM_CPU_OMP_THREADS_BIND="0-1", VLLM_CPU_NUM_OF_RESERVED_CPU="0")  # fmt: skip
    # Our conftest sets TRITON_INTERPRET in this process; vLLM's default CPU path must not see it.
    env.pop("KIMI_SWARM_FUSED_MOE", None)
    env.pop("TRITON_INTERPRET", None)
    if fused:
        env["KIMI_SWARM_FUSED_MOE"] = "1"
        if not torch.cuda.is_available():
            env["TRITON_INTERPRET"] = "1"
    proc = subprocess.run(
        [sys.executable, "-m", "tests.kernels.generate_tiny_kimi", str(model)],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])["tokens"]


@pytest.mark.engine
def test_fused_moe_generation_matches_default(tiny_kimi_dir: Path, tmp_path: Path) -> None:
    site = _plugin_path(tmp_path)
    calls = tmp_path / "calls"
    default = _generate(tiny_kimi_dir, site, calls, fused=False)
    assert not calls.exists()  # plugin loaded but disabled: vLLM's own path ran
    ours = _generate(tiny_kimi_dir, site, calls, fused=True)
    assert calls.read_text().count("x") > 0  # our kernels served the MoE layer
    assert ours == default
