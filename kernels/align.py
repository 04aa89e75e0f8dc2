"""Tokens aligned by expert: the (token, slot) pairs of each expert, padded to BLOCK_M tiles.

For `ids [T, k]` the flat slot `s = t * k + j` goes to expert `ids[t, j]`. Each expert's slots are
laid out contiguously and padded up to a multiple of BLOCK_M with the sentinel `T * k`, so every
BLOCK_M tile of `sorted_slots` belongs to exactly one expert (`tile_experts`). Sizes are worst
case (`BLOCK_M * (ceil(T*k / BLOCK_M) + min(E, T*k))`) so no host sync is needed; `num_padded` holds the used length.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(slots=True, frozen=True)
class Alignment:
    """`sorted_slots [S]` int32, `tile_experts [S / BLOCK_M]` int32 (-1 unused), `num_padded [1]`."""

    sorted_slots: torch.Tensor
    tile_experts: torch.Tensor
    num_padded: torch.Tensor
    block_m: int

    @property
    def max_tiles(self) -> int:
        return self.tile_experts.numel()


def align_by_expert(ids: torch.Tensor, num_experts: int, block_m: int) -> Alignment:
    """`ids [T, k]` expert ids -> slots grouped by expert, each group padded to `block_m`."""
    flat = ids.reshape(-1).long()  # [T*k]
    num_slots = flat.numel()
    device = flat.device
    counts = torch.bincount(flat, minlength=num_experts)  # [E]
    padded = (counts + block_m - 1) // block_m * block_m  # [E]
    padded_end = padded.cumsum(0)  # [E] exclusive end of each expert's padded run
    order = torch.argsort(flat, stable=True)  # slots sorted by expert
    expert_of = flat[order]
    first_of_expert = counts.cumsum(0) - counts  # [E] start in the unpadded order
    rank = torch.arange(num_slots, device=device) - first_of_expert[expert_of]
    dest = (padded_end - padded)[expert_of] + rank
    # Σ_e ceil(c_e / BM) <= ceil(S / BM) + (experts that can be hit): few tiles at decode.
    max_tiles = (num_slots + block_m - 1) // block_m + min(num_experts, num_slots)
    max_len = max_tiles * block_m
    sorted_slots = torch.full((max_len,), num_slots, dtype=torch.int32, device=device)
    sorted_slots[dest] = order.to(torch.int32)
    tile_start = torch.arange(0, max_len, block_m, device=device)
    tile_experts = torch.searchsorted(padded_end, tile_start, right=True)  # [S / BLOCK_M]
    tile_experts = torch.where(tile_experts < num_experts, tile_experts, -1).to(torch.int32)
    return Alignment(sorted_slots, tile_experts, padded_end[-1:].to(torch.int32), block_m)
