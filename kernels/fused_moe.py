"""Fused MoE experts: gate_up GEMM + SiLU-and-mul, then down GEMM + weighted top-k sum (Triton).

Shapes: T tokens, H hidden, N intermediate, E experts, k top-k; slots S = T * k.
- `x [T, H]` bf16/fp16; `w13 [E, 2N, H]` (gate rows, then up rows); `w2 [E, H, N]`;
- or INT4 (`kernels.int4.Int4Weight`): `packed [E, out, in/8]` int32 + `scale [E, out, in/32]`,
  dequantised inside the GEMM's K loop (q - 8 nibble times its group scale), never in memory.
Pass 1 writes `act [S, N] = silu(x w_gate^T) * (x w_up^T)` (both halves share one A tile);
pass 2 writes `y [S, H] = weight * act w2^T`; the k slots of a token are then summed.
"""

from __future__ import annotations

import os

import torch
import triton
import triton.language as tl

from kernels.align import Alignment, align_by_expert
from kernels.configs import BlockConfig, pick_config
from kernels.int4 import Int4Weight

Weight = torch.Tensor | Int4Weight

# Triton's CPU interpreter (TRITON_INTERPRET=1, what CI runs) computes bf16 `tl.dot` wrongly
# (triton 3.9); there the kernel widens its bf16 tiles to fp32 first. Same products, fp32 sums.
_INTERPRETED = os.environ.get("TRITON_INTERPRET", "0") == "1"


@triton.jit
def _load_b(
    b_ptr,
    s_ptr,
    offs_k,
    offs_n,
    mask,
    stride_bn,
    stride_bk,
    stride_sn,
    stride_sk,
    INT4: tl.constexpr,
    GROUP: tl.constexpr,
    DTYPE: tl.constexpr,
):
    """B tile `[BLOCK_K, BLOCK_N]` of `w[e] [out, in]` (a transposed view), dequantised if INT4."""
    if INT4:
        word = tl.load(
            b_ptr + (offs_k // 8)[:, None] * stride_bk + offs_n[None, :] * stride_bn,
            mask=mask,
            other=0,
        )
        nibble = (word >> ((offs_k % 8) * 4)[:, None]) & 0xF
        scale = tl.load(
            s_ptr + (offs_k // GROUP)[:, None] * stride_sk + offs_n[None, :] * stride_sn,
            mask=mask,
            other=0.0,
        )
        return ((nibble - 8).to(tl.float32) * scale.to(tl.float32)).to(DTYPE)
    else:
        return tl.load(b_ptr + offs_k[:, None] * stride_bk + offs_n[None, :] * stride_bn,
                       mask=mask, other=0.0)  # fmt: skip


@triton.jit
def _moe_gemm_kernel(
    a_ptr, b_ptr, s_ptr, c_ptr, topk_w_ptr, sorted_ptr, tile_expert_ptr, num_padded_ptr,
    N, K, num_slots, up_offset,
    stride_am, stride_ak, stride_be, stride_bn, stride_bk,
    stride_se, stride_sn, stride_sk, stride_cm, stride_cn,
    A_ROW_DIV: tl.constexpr, GATED: tl.constexpr, MUL_WEIGHT: tl.constexpr,
    INT4: tl.constexpr, GROUP: tl.constexpr, DOT_FP32: tl.constexpr,
    BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_K: tl.constexpr, GROUP_M: tl.constexpr,
):  # fmt: skip
    """`c[slot, n] = epilogue(Σ_k a[slot // A_ROW_DIV, k] · w[e, n, k])` for each expert tile."""
    # Grouped launch order: GROUP_M row tiles share B tiles while they are hot in L2.
    pid = tl.program_id(0)
    num_pid_m = tl.num_programs(0) // tl.cdiv(N, BLOCK_N)
    num_pid_n = tl.cdiv(N, BLOCK_N)
    group_id = pid // (GROUP_M * num_pid_n)
    first_m = group_id * GROUP_M
    group_rows = tl.minimum(num_pid_m - first_m, GROUP_M)
    pid_m = first_m + (pid % (GROUP_M * num_pid_n)) % group_rows
    pid_n = (pid % (GROUP_M * num_pid_n)) // group_rows
    if pid_m * BLOCK_M >= tl.load(num_padded_ptr):
        return
    expert = tl.load(tile_expert_ptr + pid_m).to(tl.int64)
    slots = tl.load(sorted_ptr + pid_m * BLOCK_M + tl.arange(0, BLOCK_M))  # [BLOCK_M]
    row_mask = slots < num_slots
    a_rows = (slots // A_ROW_DIV).to(tl.int64)
    offs_n = pid_n * BLOCK_N + tl.arange(0, BLOCK_N)
    n_mask = offs_n < N
    b_base = b_ptr + expert * stride_be
    s_base = s_ptr + expert * stride_se
    dtype = c_ptr.dtype.element_ty
    acc = tl.zeros([BLOCK_M, BLOCK_N], tl.float32)
    acc_up = tl.zeros([BLOCK_M, BLOCK_N], tl.float32)
    for k0 in range(0, tl.cdiv(K, BLOCK_K)):
        offs_k = k0 * BLOCK_K + tl.arange(0, BLOCK_K)
        k_mask = offs_k < K
        a = tl.load(a_ptr + a_rows[:, None] * stride_am + offs_k[None, :] * stride_ak,
                    mask=row_mask[:, None] & k_mask[None, :], other=0.0)  # fmt: skip
        b_mask = k_mask[:, None] & n_mask[None, :]
        b = _load_b(b_base, s_base, offs_k, offs_n, b_mask, stride_bn, stride_bk,
                    stride_sn, stride_sk, INT4, GROUP, dtype)  # fmt: skip
        if DOT_FP32:  # interpreter: its bf16 tl.dot is wrong, so widen the (bf16) tiles
            a = a.to(tl.float32)
            b = b.to(tl.float32)
        acc = tl.dot(a, b, acc)
        if GATED:  # the up half of w13 sits `up_offset` rows below the gate half
            b_up = _load_b(b_base, s_base, offs_k, offs_n + up_offset, b_mask, stride_bn,
                           stride_bk, stride_sn, stride_sk, INT4, GROUP, dtype)  # fmt: skip
            if DOT_FP32:
                b_up = b_up.to(tl.float32)
            acc_up = tl.dot(a, b_up, acc_up)
    if GATED:
        acc = acc * tl.sigmoid(acc) * acc_up  # SiLU(gate) * up
    if MUL_WEIGHT:
        acc = acc * tl.load(topk_w_ptr + slots, mask=row_mask, other=0.0)[:, None]
    c_offs = slots.to(tl.int64)[:, None] * stride_cm + offs_n[None, :] * stride_cn
    tl.store(c_ptr + c_offs, acc.to(dtype), mask=row_mask[:, None] & n_mask[None, :])


def _weight_args(w: Weight) -> tuple[torch.Tensor, torch.Tensor, list[int], bool, int]:
    """(data, scale, [stride_e, stride_out, stride_in, scale strides x3], is_int4, group)."""
    if isinstance(w, Int4Weight):
        return w.packed, w.scale, [*w.packed.stride(), *w.scale.stride()], True, w.group
    return w, w, [*w.stride(), 0, 0, 0], False, 1


def _launch(
    a: torch.Tensor, w: Weight, c: torch.Tensor, topk_w: torch.Tensor | None,
    align: Alignment, n: int, a_row_div: int, gated: bool, cfg: BlockConfig,
) -> None:  # fmt: skip
    """One grouped GEMM over all expert tiles: check done by callers, allocate done, launch."""
    data, scale, strides, int4, group = _weight_args(w)
    k = a.shape[1]
    grid = (align.max_tiles * triton.cdiv(n, cfg.block_n),)
    _moe_gemm_kernel[grid](
        a, data, scale, c, topk_w if topk_w is not None else c,
        align.sorted_slots, align.tile_experts, align.num_padded,
        n, k, c.shape[0], n if gated else 0,
        a.stride(0), a.stride(1), strides[0], strides[1], strides[2],
        strides[3], strides[4], strides[5], c.stride(0), c.stride(1),
        A_ROW_DIV=a_row_div, GATED=gated, MUL_WEIGHT=topk_w is not None,
        INT4=int4, GROUP=group, DOT_FP32=_INTERPRETED, BLOCK_M=cfg.block_m, BLOCK_N=cfg.block_n,
        BLOCK_K=cfg.block_k, GROUP_M=cfg.group_m,
        num_warps=cfg.num_warps, num_stages=cfg.num_stages,
    )  # fmt: skip


def _shapes(x: torch.Tensor, w13: Weight, w2: Weight) -> tuple[int, int, int]:
    """Validate shapes; return (E, N, H)."""
    dense13 = w13.packed if isinstance(w13, Int4Weight) else w13
    e, two_n = dense13.shape[0], dense13.shape[1]
    h_in = w13.in_features if isinstance(w13, Int4Weight) else w13.shape[2]
    h_out = w2.out_features if isinstance(w2, Int4Weight) else w2.shape[1]
    n_in = w2.in_features if isinstance(w2, Int4Weight) else w2.shape[2]
    if x.dim() != 2 or x.shape[1] != h_in or h_out != h_in or 2 * n_in != two_n:
        raise ValueError(
            f"shape mismatch: x {tuple(x.shape)}, w13 [E={e}, {two_n}, {h_in}], w2 [{h_out}, {n_in}]"
        )
    return e, n_in, h_in


def fused_experts(
    x: torch.Tensor,
    w13: Weight,
    w2: Weight,
    topk_weights: torch.Tensor,
    topk_ids: torch.Tensor,
    config: BlockConfig | None = None,
) -> torch.Tensor:
    """`x [T, H]`, experts `w13/w2` (bf16 or INT4), `topk_* [T, k]` -> `[T, H]` in x.dtype."""
    num_experts, n, h = _shapes(x, w13, w2)
    t, top_k = topk_ids.shape
    if t == 0:
        return torch.zeros_like(x)
    x = x.contiguous()
    int4 = isinstance(w13, Int4Weight)
    cfg = config or pick_config(num_experts, n, t, "int4_w4a16" if int4 else str(x.dtype))
    align = align_by_expert(topk_ids, num_experts, cfg.block_m)
    act = torch.empty(t * top_k, n, dtype=x.dtype, device=x.device)  # [S, N]
    _launch(x, w13, act, None, align, n, top_k, True, cfg)
    down = torch.empty(t * top_k, h, dtype=x.dtype, device=x.device)  # [S, H]
    weights = topk_weights.reshape(-1).to(torch.float32).contiguous()
    _launch(act, w2, down, weights, align, h, 1, False, cfg)
    return down.view(t, top_k, h).sum(1, dtype=torch.float32).to(x.dtype)
