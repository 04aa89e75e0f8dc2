"""Tuned block configs for `kernels.fused_moe`, one JSON file per shape/device/dtype.

A file is named `E={experts},N={intermediate},device={device},dtype={dtype}.json` and maps a
batch size M (string key) to a `BlockConfig` dict. `pick_config` takes the entry with the
nearest M; with no file it logs once and falls back to `default_config`. `kernels.tune` writes
these files.
"""

from __future__ import annotations

import functools
import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

CONFIG_DIR = Path(__file__).parent


@dataclass(slots=True, frozen=True)
class BlockConfig:
    """Tile sizes and launch knobs of the MoE GEMM (block sizes are powers of two >= 16)."""

    block_m: int = 64
    block_n: int = 64
    block_k: int = 32
    group_m: int = 8
    num_warps: int = 4
    num_stages: int = 3

    def __post_init__(self) -> None:
        for name in ("block_m", "block_n", "block_k"):
            value = getattr(self, name)
            if value < 16 or value & (value - 1):
                raise ValueError(f"{name}={value} must be a power of two >= 16")

    def to_json(self) -> dict[str, int]:
        return asdict(self)


def default_config(m: int) -> BlockConfig:
    """Untuned fallback: small row tiles for decode (few tokens per expert), larger for prefill."""
    if m <= 32:
        return BlockConfig(block_m=16, block_n=64, block_k=128, group_m=1, num_warps=4)
    if m <= 512:
        return BlockConfig(block_m=32, block_n=64, block_k=64, group_m=8, num_warps=4)
    return BlockConfig(block_m=64, block_n=128, block_k=64, group_m=8, num_warps=8, num_stages=3)


def device_name() -> str:
    """The file-name form of the current accelerator, `cpu` without CUDA."""
    import torch

    if not torch.cuda.is_available():
        return "cpu"
    return torch.cuda.get_device_name().replace(" ", "_")


def config_file(experts: int, intermediate: int, device: str, dtype: str) -> Path:
    """Where the configs for one (E, N, device, dtype) live."""
    dtype_tag = dtype.removeprefix("torch.")
    return CONFIG_DIR / f"E={experts},N={intermediate},device={device},dtype={dtype_tag}.json"


@functools.cache
def load_configs(path: Path) -> dict[int, BlockConfig] | None:
    """`{M: BlockConfig}` from one JSON file, or None when it does not exist."""
    if not path.is_file():
        return None
    raw = json.loads(path.read_text())
    return {int(m): BlockConfig(**cfg) for m, cfg in raw.items()}


@functools.cache
def _log_fallback(path: Path) -> None:
    logger.warning("no tuned MoE config %s; using the built-in defaults", path.name)


def pick_config(experts: int, intermediate: int, m: int, dtype: str) -> BlockConfig:
    """The tuned config whose batch size is nearest to `m`, else the logged default."""
    path = config_file(experts, intermediate, device_name(), dtype)
    table = load_configs(path)
    if not table:
        _log_fallback(path)
        return default_config(m)
    return table[min(table, key=lambda key: (abs(key - m), key))]


def save_configs(path: Path, table: dict[int, BlockConfig]) -> None:
    """Write `{M: BlockConfig}` as JSON (sorted by M), the format `load_configs` reads."""
    data = {str(m): table[m].to_json() for m in sorted(table)}
    path.write_text(json.dumps(data, indent=2) + "\n")
    load_configs.cache_clear()
