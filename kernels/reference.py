"""Readable torch references the fused kernels are tested against (gpt-fast style).

Shapes: T tokens, H hidden, N intermediate (per partition), E experts, k = top-k.
Weights follow vLLM's FusedMoE layout: `w13 [E, 2N, H]` (gate rows then up rows), `w2 [E, H, N]`.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from kernels.int4 import Int4Weight, dequantize


@dataclass(slots=True, frozen=True)
class RoutingSpec:
    """DeepSeek-V3 / Kimi K2.5 router: sigmoid scores, correction bias, grouped top-k."""

    top_k: int
    n_group: int = 1
    topk_group: int = 1
    renormalize: bool = True
    routed_scaling_factor: float = 1.0
    scoring: str = "sigmoid"  # or "softmax"

    def __post_init__(self) -> None:
        if self.scoring not in ("sigmoid", "softmax"):
            raise ValueError(f"unsupported scoring {self.scoring!r}")
        if not 1 <= self.topk_group <= self.n_group:
            raise ValueError(f"topk_group {self.topk_group} not in [1, {self.n_group}]")


def route_reference(
    logits: torch.Tensor, bias: torch.Tensor | None, spec: RoutingSpec
) -> tuple[torch.Tensor, torch.Tensor]:
    """`logits [T, E]`, `bias [E]` -> (`weights [T, k]` fp32, `ids [T, k]` int32)."""
    logits = logits.float()
    scores = logits.sigmoid() if spec.scoring == "sigmoid" else logits.softmax(-1)  # [T, E]
    T, E = scores.shape
    choice = scores if bias is None else scores + bias.float()  # biased scores pick experts
    grouped = choice.view(T, spec.n_group, E // spec.n_group)  # [T, G, E/G]
    # A group's score: sum of its two best (with bias, as DeepSeek-V3), else its best.
    group_score = grouped.topk(2, -1).values.sum(-1) if bias is not None else grouped.amax(-1)
    keep = group_score.topk(spec.topk_group, -1).indices  # [T, topk_group]
    group_mask = torch.zeros_like(group_score, dtype=torch.bool).scatter_(1, keep, True)
    expert_mask = group_mask.repeat_interleave(E // spec.n_group, dim=1)  # [T, E]
    ids = choice.masked_fill(~expert_mask, float("-inf")).topk(spec.top_k, -1).indices
    weights = scores.gather(1, ids)  # the unbiased scores weight the experts
    if spec.renormalize:
        weights = weights / weights.sum(-1, keepdim=True)
    return weights * spec.routed_scaling_factor, ids.to(torch.int32)


def experts_reference(
    x: torch.Tensor,
    w13: torch.Tensor,
    w2: torch.Tensor,
    weights: torch.Tensor,
    ids: torch.Tensor,
) -> torch.Tensor:
    """`x [T, H]`, `w13 [E, 2N, H]`, `w2 [E, H, N]`, `weights/ids [T, k]` -> `[T, H]` in x.dtype.

    out[t] = Σ_j weights[t, j] · w2[e] · (silu(gate_e x[t]) ⊙ up_e x[t]),  e = ids[t, j]
    """
    xf = x.float()
    gate_up = torch.einsum("th,tjnh->tjn", xf, w13[ids.long()].float())  # [T, k, 2N]
    gate, up = gate_up.chunk(2, dim=-1)  # [T, k, N] each
    act = F.silu(gate) * up
    # Round the intermediate like the kernel does: it stores it in the activation dtype.
    act = act.to(x.dtype).float()
    down = torch.einsum("tjn,tjhn->tjh", act, w2[ids.long()].float())  # [T, k, H]
    return (down * weights.float().unsqueeze(-1)).sum(1).to(x.dtype)


def int4_experts_reference(
    x: torch.Tensor,
    w13: Int4Weight,
    w2: Int4Weight,
    weights: torch.Tensor,
    ids: torch.Tensor,
) -> torch.Tensor:
    """INT4 experts: dequantise (q · scale per group of 32) then run `experts_reference`."""
    return experts_reference(
        x, dequantize(w13, torch.float32), dequantize(w2, torch.float32), weights, ids
    )


def moe_reference(
    x: torch.Tensor,
    logits: torch.Tensor,
    bias: torch.Tensor | None,
    spec: RoutingSpec,
    w13: torch.Tensor,
    w2: torch.Tensor,
) -> torch.Tensor:
    """A whole routed-MoE layer: route, then run the experts; `[T, H]`."""
    weights, ids = route_reference(logits, bias, spec)
    return experts_reference(x, w13, w2, weights, ids)
