"""Tune `kernels.fused_moe` block configs and write them as JSON (`kernels/configs/`).

`python -m kernels.tune --experts 384 --intermediate 256 --hidden 7168 --dtype bfloat16`
times every candidate `BlockConfig` for each batch size M on the current device and saves the
fastest per M to `E={E},N={N},device={device},dtype={dtype}.json`. Needs a CUDA GPU for
meaningful numbers (on CPU it runs through the interpreter: `--smoke` for tiny shapes).
"""

from __future__ import annotations

import argparse
import functools
import itertools
import time
from collections.abc import Callable
from pathlib import Path

import torch

from kernels.configs import BlockConfig, config_file, device_name, save_configs
from kernels.fused_moe import fused_experts
from kernels.int4 import quantize_weight

BATCHES = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096)


def candidates(smoke: bool) -> list[BlockConfig]:
    """The search space (a tiny one for `--smoke`)."""
    if smoke:
        return [BlockConfig(16, 32, 32, 1, 4, 2), BlockConfig(16, 64, 64, 4, 4, 2)]
    space = itertools.product((16, 32, 64, 128), (32, 64, 128, 256), (64, 128, 256), (1, 8),
                              (4, 8), (2, 3, 4))  # fmt: skip
    return [BlockConfig(*values) for values in space]


def time_call(fn: Callable[[], object], repeat: int) -> float:
    """Median seconds per call (CUDA events on GPU, wall clock otherwise)."""
    fn()  # compile / warm up
    samples = []
    for _ in range(repeat):
        if torch.cuda.is_available():
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            fn()
            end.record()
            torch.cuda.synchronize()
            samples.append(start.elapsed_time(end) / 1e3)
        else:
            begin = time.perf_counter()
            fn()
            samples.append(time.perf_counter() - begin)
    return sorted(samples)[len(samples) // 2]


def tune(args: argparse.Namespace) -> dict[int, BlockConfig]:
    """Best config per batch size for one (E, N, H, dtype)."""
    dev = "cuda" if torch.cuda.is_available() else "cpu"
    e, n, h = args.experts, args.intermediate, args.hidden
    w13 = (torch.randn(e, 2 * n, h, device=dev) / h**0.5).bfloat16()
    w2 = (torch.randn(e, h, n, device=dev) / n**0.5).bfloat16()
    int4 = args.dtype == "int4_w4a16"
    weights13 = quantize_weight(w13) if int4 else w13
    weights2 = quantize_weight(w2) if int4 else w2
    best: dict[int, BlockConfig] = {}
    for m in args.batches:
        x = torch.randn(m, h, device=dev).bfloat16()
        topk_w = torch.rand(m, args.top_k, device=dev)
        ids = torch.stack([torch.randperm(e, device=dev)[: args.top_k] for _ in range(m)]).int()
        timings = []
        for cfg in candidates(args.smoke):
            try:
                run = functools.partial(fused_experts, x, weights13, weights2, topk_w, ids, cfg)
                timings.append((time_call(run, args.repeat), cfg))
            except Exception as exc:  # out of shared memory / registers: skip the candidate
                print(f"M={m} {cfg}: skipped ({type(exc).__name__})")
        best[m] = min(timings, key=lambda pair: pair[0])[1]
        print(f"M={m}: {best[m]}")
    return best


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--experts", type=int, default=384)
    parser.add_argument("--intermediate", type=int, default=256)
    parser.add_argument("--hidden", type=int, default=7168)
    parser.add_argument("--top-k", type=int, default=8)
    parser.add_argument("--dtype", choices=("bfloat16", "int4_w4a16"), default="bfloat16")
    parser.add_argument("--batches", type=int, nargs="+", default=list(BATCHES))
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--smoke", action="store_true", help="two candidates (CI / interpreter)")
    parser.add_argument("--out", help="output file (default: kernels/configs/<name>.json)")
    args = parser.parse_args(argv)
    best = tune(args)
    default = config_file(args.experts, args.intermediate, device_name(), args.dtype)
    path = Path(args.out) if args.out else default
    save_configs(path, best)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
