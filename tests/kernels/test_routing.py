"""Fused router vs the torch reference, and the reference vs vLLM's own `grouped_topk`."""

from __future__ import annotations

import pytest
import torch
from vllm.model_executor.layers.fused_moe.router.grouped_topk_router import grouped_topk

from kernels.reference import RoutingSpec, route_reference
from kernels.routing import fused_route

# (tokens, experts, top_k, n_group, topk_group, with bias, scoring)
CASES = [
    (1, 8, 2, 1, 1, True, "sigmoid"),
    (33, 384, 8, 1, 1, True, "sigmoid"),  # Kimi K2.5: one group, 8 of 384
    (511, 384, 8, 8, 4, True, "sigmoid"),  # DeepSeek-V3 grouping
    (33, 64, 4, 8, 3, False, "sigmoid"),
    (33, 8, 2, 2, 1, True, "softmax"),
]


def _by_expert(weights: torch.Tensor, ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Sort each token's picks by expert id so picks compare regardless of order."""
    order = ids.long().argsort(-1)
    return weights.gather(1, order), ids.long().gather(1, order)


@pytest.mark.parametrize(("t", "e", "k", "groups", "topk_groups", "has_bias", "scoring"), CASES)
def test_fused_route_matches_reference(
    device: str, t: int, e: int, k: int, groups: int, topk_groups: int, has_bias: bool, scoring: str
) -> None:
    logits = torch.randn(t, e, device=device)  # fp32 as vLLM's gate emits: no ties
    bias = torch.randn(e, device=device) * 0.1 if has_bias else None
    spec = RoutingSpec(k, groups, topk_groups, True, 2.827, scoring)
    weights, ids = fused_route(logits, bias, spec)
    ref_w, ref_ids = route_reference(logits, bias, spec)
    got_w, got_ids = _by_expert(weights, ids)
    exp_w, exp_ids = _by_expert(ref_w, ref_ids)
    assert torch.equal(got_ids, exp_ids)
    torch.testing.assert_close(got_w, exp_w, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(weights.sum(-1), torch.full_like(weights[:, 0], 2.827))


@pytest.mark.parametrize(
    ("t", "e", "k", "groups", "topk_groups"), [(33, 384, 8, 8, 4), (7, 8, 2, 1, 1)]
)
def test_reference_matches_vllm_grouped_topk(
    t: int, e: int, k: int, groups: int, topk_groups: int
) -> None:
    logits = torch.randn(t, e)
    bias = torch.randn(e) * 0.1
    spec = RoutingSpec(k, groups, topk_groups, True, 2.5)
    vllm_native = getattr(grouped_topk, "_torchdynamo_orig_callable", grouped_topk)
    vw, vids = vllm_native(logits, logits, k, True, groups, topk_groups, "sigmoid", 2.5, bias)
    rw, rids = route_reference(logits, bias, spec)
    got_w, got_ids = _by_expert(rw, rids)
    exp_w, exp_ids = _by_expert(vw, vids)
    assert torch.equal(got_ids, exp_ids)
    torch.testing.assert_close(got_w, exp_w)


def test_fused_route_rejects_impossible_grouping(device: str) -> None:
    with pytest.raises(ValueError, match="cannot pick"):
        fused_route(torch.randn(2, 8, device=device), None, RoutingSpec(6, 4, 1))
