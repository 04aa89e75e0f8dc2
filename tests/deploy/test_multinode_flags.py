"""vLLM's multi-node flags pass through `kimi-swarm serve` unchanged into vLLM's engine config.

`serve` builds its parser from vLLM's own `make_arg_parser` and hands the namespace to vLLM's
`build_async_engine_client`, which calls `AsyncEngineArgs.from_cli_args`; these tests take
the same path (flags, or KIMI_SWARM_* env vars) and, where the CPU build allows, let vLLM
build its `ParallelConfig` for the tiny Kimi K2.5 (an MoE, as data parallel requires).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from server.boot.cli import build_parser
from server.boot.config import apply_config


def engine_args(argv: list[str], env: dict[str, str] | None = None) -> Any:
    from vllm.engine.arg_utils import AsyncEngineArgs

    return AsyncEngineArgs.from_cli_args(apply_config(build_parser(), argv, env or {}))


def tiny(model: Path) -> list[str]:
    return ["--model", str(model), "--trust-remote-code", "--load-format", "dummy",
            "--max-model-len", "1024"]  # fmt: skip


def test_data_parallel_rank_behind_an_external_load_balancer(tiny_kimi_dir: Path) -> None:
    argv = [
        *tiny(tiny_kimi_dir),
        "--data-parallel-size", "2", "--data-parallel-rank", "1",
        "--data-parallel-address", "10.0.0.1", "--data-parallel-rpc-port", "13345",
    ]  # fmt: skip
    config = engine_args(argv).create_engine_config().parallel_config
    assert (config.data_parallel_size, config.data_parallel_rank) == (2, 1)
    assert config.data_parallel_external_lb and config.data_parallel_size_local == 1
    assert (config.data_parallel_master_ip, config.data_parallel_rpc_port) == ("10.0.0.1", 13345)


def test_tensor_and_pipeline_parallel_across_nodes(tiny_kimi_dir: Path) -> None:
    argv = [
        *tiny(tiny_kimi_dir),
        "--tensor-parallel-size", "2", "--pipeline-parallel-size", "2",
        "--nnodes", "2", "--node-rank", "1", "--master-addr", "10.0.0.1",
    ]  # fmt: skip
    config = engine_args(argv).create_engine_config().parallel_config
    assert (config.tensor_parallel_size, config.pipeline_parallel_size) == (2, 2)
    assert config.world_size == 4 and (config.nnodes, config.node_rank) == (2, 1)
    assert config.master_addr == "10.0.0.1"


KIMI_K25_RAY = {
    "tensor_parallel_size": 8,
    "pipeline_parallel_size": 2,
    "distributed_executor_backend": "ray",
    "enable_expert_parallel": True,
}


@pytest.mark.parametrize("source", ["flags", "env"])
def test_kimi_k25_on_2x8_gpus_over_ray_reaches_the_engine_args(source: str) -> None:
    # Building the ParallelConfig itself needs Ray, which the GPU image has and the CPU
    # build does not: here the check stops at the engine args vLLM builds it from.
    flags = ["--tensor-parallel-size", "8", "--pipeline-parallel-size", "2",
             "--distributed-executor-backend", "ray", "--enable-expert-parallel"]  # fmt: skip
    env = {
        "KIMI_SWARM_TENSOR_PARALLEL_SIZE": "8",
        "KIMI_SWARM_PIPELINE_PARALLEL_SIZE": "2",
        "KIMI_SWARM_DISTRIBUTED_EXECUTOR_BACKEND": "ray",
        "KIMI_SWARM_ENABLE_EXPERT_PARALLEL": "1",
    }
    argv = ["--model", "moonshotai/Kimi-K2.5", "--trust-remote-code"]
    args = engine_args(argv + flags) if source == "flags" else engine_args(argv, env)
    assert {k: getattr(args, k) for k in KIMI_K25_RAY} == KIMI_K25_RAY
    assert args.model == "moonshotai/Kimi-K2.5" and args.trust_remote_code
