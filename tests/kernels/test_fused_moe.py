"""Fused experts (bf16 and INT4) vs the torch references over awkward shapes."""

from __future__ import annotations

import pytest
import torch

from kernels.align import align_by_expert
from kernels.configs import BlockConfig
from kernels.fused_moe import fused_experts
from kernels.int4 import quantize_weight
from kernels.reference import experts_reference, int4_experts_reference

# Interpreter-sized: hidden/intermediate are not multiples of the K/N blocks.
TILES = BlockConfig(block_m=16, block_n=32, block_k=64, group_m=4)


def _routing(t: int, e: int, k: int, device: str) -> tuple[torch.Tensor, torch.Tensor]:
    ids = torch.stack([torch.randperm(e)[:k] for _ in range(t)]).int().to(device)  # [T, k]
    return torch.rand(t, k, device=device), ids


def _close(out: torch.Tensor, ref: torch.Tensor) -> None:
    # bf16 output: allow a few ulps of the largest value (the kernel rounds per slot)
    tol = 0.02 * ref.float().abs().max().item() + 1e-3
    torch.testing.assert_close(out.float(), ref.float(), atol=tol, rtol=0.02)


@pytest.mark.parametrize(
    ("t", "e", "k", "h", "n"), [(1, 384, 8, 72, 48), (33, 384, 8, 40, 24), (511, 8, 2, 40, 24)]
)
def test_bf16_experts_match_reference(device: str, t: int, e: int, k: int, h: int, n: int) -> None:
    x = torch.randn(t, h, dtype=torch.bfloat16, device=device)
    w13 = (torch.randn(e, 2 * n, h, device=device) / h**0.5).bfloat16()
    w2 = (torch.randn(e, h, n, device=device) / n**0.5).bfloat16()
    weights, ids = _routing(t, e, k, device)
    out = fused_experts(x, w13, w2, weights, ids, TILES)
    assert out.shape == (t, h) and out.dtype == torch.bfloat16
    _close(out, experts_reference(x, w13, w2, weights, ids))


@pytest.mark.parametrize(
    ("t", "e", "k", "h", "n"), [(1, 384, 8, 96, 32), (33, 8, 2, 96, 64), (511, 8, 2, 96, 32)]
)
def test_int4_experts_match_reference(device: str, t: int, e: int, k: int, h: int, n: int) -> None:
    x = torch.randn(t, h, dtype=torch.bfloat16, device=device)
    w13 = quantize_weight((torch.randn(e, 2 * n, h, device=device) / h**0.5).bfloat16())
    w2 = quantize_weight((torch.randn(e, h, n, device=device) / n**0.5).bfloat16())
    weights, ids = _routing(t, e, k, device)
    out = fused_experts(x, w13, w2, weights, ids, TILES)
    _close(out, int4_experts_reference(x, w13, w2, weights, ids))


def test_align_groups_slots_by_expert() -> None:
    ids = torch.tensor([[3, 0], [3, 1], [0, 3]], dtype=torch.int32)  # T=3, k=2
    align = align_by_expert(ids, num_experts=4, block_m=16)
    used = int(align.num_padded.item())
    assert used == 3 * 16  # experts 0, 1, 3 each fill one padded tile
    slots = align.sorted_slots[:used].view(-1, 16)
    for tile, expert in zip(slots, align.tile_experts[:3].tolist(), strict=True):
        real = tile[tile < ids.numel()].long()
        assert bool((ids.view(-1)[real] == expert).all())
    assert sorted(align.sorted_slots[align.sorted_slots < 6].tolist()) == list(range(6))
    assert bool((align.tile_experts[3:] == -1).all())


def test_rejects_mismatched_shapes(device: str) -> None:
    x = torch.randn(2, 40, dtype=torch.bfloat16, device=device)
    w13 = torch.randn(4, 48, 40, dtype=torch.bfloat16, device=device)
    w2 = torch.randn(4, 40, 20, dtype=torch.bfloat16, device=device)  # N=20 but w13 says 24
    weights, ids = _routing(2, 4, 2, device)
    with pytest.raises(ValueError, match="shape mismatch"):
        fused_experts(x, w13, w2, weights, ids)
