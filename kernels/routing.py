"""Fused router: sigmoid (or softmax) scores + correction bias + grouped top-k + renormalise + scale.

One Triton program routes BLOCK_T tokens; all E experts of a token sit in one row of registers
(E = 384 pads to 512), so scores, group scores and the k picks never leave the SM. Matches
`kernels.reference.route_reference` (and vLLM's `grouped_topk`) up to ties between equal scores.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl

from kernels.reference import RoutingSpec

_TILE = 4096  # BLOCK_T * BLOCK_E elements per program: fits registers on a GPU


@triton.jit
def _group_mask(
    choice,
    offs_e,
    e_mask,
    group_size,
    N_GROUP: tl.constexpr,
    TOPK_GROUP: tl.constexpr,
    HAS_BIAS: tl.constexpr,
    BLOCK_G: tl.constexpr,
):
    """`choice [BLOCK_T, BLOCK_E]` -> bool mask of experts in each token's best groups."""
    gid = offs_e // group_size  # [BLOCK_E] group of each expert (padding lands past N_GROUP)
    offs_g = tl.arange(0, BLOCK_G)
    group_score = tl.full([choice.shape[0], BLOCK_G], float("-inf"), tl.float32)
    for g in tl.static_range(N_GROUP):
        s = tl.where(((gid == g) & e_mask)[None, :], choice, float("-inf"))
        best = tl.max(s, 1)  # [BLOCK_T]
        if HAS_BIAS:  # DeepSeek-V3: a group scores the sum of its two best experts
            first = tl.argmax(s, 1)
            best += tl.max(tl.where(offs_e[None, :] == first[:, None], float("-inf"), s), 1)
        group_score = tl.where(offs_g[None, :] == g, best[:, None], group_score)
    keep = offs_e[None, :] < 0  # all False, [1, BLOCK_E] broadcast below
    for _ in tl.static_range(TOPK_GROUP):
        g = tl.argmax(group_score, 1)  # [BLOCK_T]
        group_score = tl.where(offs_g[None, :] == g[:, None], float("-inf"), group_score)
        keep = keep | (gid[None, :] == g[:, None])
    return keep


@triton.jit
def _route_kernel(
    logits_ptr, bias_ptr, weights_ptr, ids_ptr,
    T, E, stride_t, group_size, scaling,
    TOP_K: tl.constexpr, N_GROUP: tl.constexpr, TOPK_GROUP: tl.constexpr,
    HAS_BIAS: tl.constexpr, SOFTMAX: tl.constexpr, RENORMALIZE: tl.constexpr,
    BLOCK_T: tl.constexpr, BLOCK_E: tl.constexpr, BLOCK_G: tl.constexpr, BLOCK_K: tl.constexpr,
):  # fmt: skip
    offs_t = tl.program_id(0) * BLOCK_T + tl.arange(0, BLOCK_T)
    offs_e = tl.arange(0, BLOCK_E)
    t_mask = offs_t < T
    e_mask = offs_e < E
    mask = t_mask[:, None] & e_mask[None, :]
    logits = tl.load(
        logits_ptr + offs_t[:, None] * stride_t + offs_e[None, :], mask=mask, other=0.0
    )
    logits = logits.to(tl.float32)  # [BLOCK_T, BLOCK_E]
    if SOFTMAX:
        logits = tl.where(e_mask[None, :], logits, float("-inf"))
        p = tl.exp(logits - tl.max(logits, 1)[:, None])
        scores = p / tl.sum(p, 1)[:, None]
    else:
        scores = tl.sigmoid(logits)
    choice = scores
    if HAS_BIAS:  # the bias steers the choice only; weights use the unbiased scores
        choice += tl.load(bias_ptr + offs_e, mask=e_mask, other=0.0).to(tl.float32)[None, :]
    choice = tl.where(e_mask[None, :], choice, float("-inf"))
    if N_GROUP > 1:
        keep = _group_mask(
            choice, offs_e, e_mask, group_size, N_GROUP, TOPK_GROUP, HAS_BIAS, BLOCK_G
        )
        choice = tl.where(keep, choice, float("-inf"))
    offs_k = tl.arange(0, BLOCK_K)
    weights = tl.zeros([BLOCK_T, BLOCK_K], tl.float32)
    ids = tl.zeros([BLOCK_T, BLOCK_K], tl.int32)
    for j in tl.static_range(TOP_K):  # k rounds of argmax-and-knock-out
        e = tl.argmax(choice, 1)  # [BLOCK_T]
        hit = offs_e[None, :] == e[:, None]
        w = tl.sum(tl.where(hit, scores, 0.0), 1)
        weights = tl.where(offs_k[None, :] == j, w[:, None], weights)
        ids = tl.where(offs_k[None, :] == j, e[:, None].to(tl.int32), ids)
        choice = tl.where(hit, float("-inf"), choice)
    if RENORMALIZE:
        weights = weights / tl.sum(weights, 1)[:, None]
    out_mask = t_mask[:, None] & (offs_k < TOP_K)[None, :]
    out_offs = offs_t[:, None] * TOP_K + offs_k[None, :]
    tl.store(weights_ptr + out_offs, weights * scaling, mask=out_mask)
    tl.store(ids_ptr + out_offs, ids, mask=out_mask)


def fused_route(
    logits: torch.Tensor, bias: torch.Tensor | None, spec: RoutingSpec
) -> tuple[torch.Tensor, torch.Tensor]:
    """`logits [T, E]`, `bias [E] | None` -> (`weights [T, k]` fp32, `ids [T, k]` int32)."""
    T, E = logits.shape
    if E % spec.n_group or spec.top_k > E // spec.n_group * spec.topk_group:
        raise ValueError(f"cannot pick {spec.top_k} of {E} experts with groups {spec}")
    if logits.stride(1) != 1:
        logits = logits.contiguous()
    weights = torch.empty(T, spec.top_k, dtype=torch.float32, device=logits.device)
    ids = torch.empty(T, spec.top_k, dtype=torch.int32, device=logits.device)
    if T == 0:
        return weights, ids
    block_e = triton.next_power_of_2(E)
    block_t = max(1, min(_TILE // block_e, triton.next_power_of_2(T)))
    _route_kernel[(triton.cdiv(T, block_t),)](
        logits, bias if bias is not None else logits, weights, ids,
        T, E, logits.stride(0), E // spec.n_group, spec.routed_scaling_factor,
        TOP_K=spec.top_k, N_GROUP=spec.n_group, TOPK_GROUP=spec.topk_group,
        HAS_BIAS=bias is not None, SOFTMAX=spec.scoring == "softmax",
        RENORMALIZE=spec.renormalize, BLOCK_T=block_t, BLOCK_E=block_e,
        BLOCK_G=triton.next_power_of_2(spec.n_group), BLOCK_K=triton.next_power_of_2(spec.top_k),
    )  # fmt: skip
    return weights, ids
