"""INT4 weight-only quantisation in the layout Kimi K2.5 ships (compressed-tensors `pack_quantized`).

Layout (compressed_tensors/compressors/pack_quantized/helpers.py, `pack_to_int32` with
`packed_dim=1`, and `calculate_qparams` in compressed_tensors/quantization/utils/helpers.py):
- weight `[out, in]` is quantised symmetrically per group of `group` input columns:
  `scale = absmax / 7.5` (bit range 15 halved), `q = clamp(round(w / scale), -8, 7)`;
- `q + 8` (unsigned nibble) of input column `8 * j + i` sits in bits `4 i .. 4 i + 3` of int32
  word `j`: `packed [out, in / 8]` int32, `scale [out, in / group]`; no zero point.
MoE weights add a leading expert axis: `[E, out, in / 8]` and `[E, out, in / group]`.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

PACK = 8  # int4 values per int32 word
GROUP = 32  # Kimi K2.5 group size
QMIN, QMAX = -8, 7


@dataclass(slots=True, frozen=True)
class Int4Weight:
    """One INT4 weight: `packed [..., out, in/8]` int32 and `scale [..., out, in/group]`."""

    packed: torch.Tensor
    scale: torch.Tensor
    group: int = GROUP

    def __post_init__(self) -> None:
        if self.packed.dtype != torch.int32:
            raise ValueError(f"packed must be int32, got {self.packed.dtype}")
        in_features = self.packed.shape[-1] * PACK
        if self.scale.shape[-1] * self.group != in_features:
            raise ValueError(
                f"scale {tuple(self.scale.shape)} does not match {in_features} inputs "
                f"with group {self.group}"
            )

    @property
    def in_features(self) -> int:
        return self.packed.shape[-1] * PACK

    @property
    def out_features(self) -> int:
        return self.packed.shape[-2]


def quantize(w: torch.Tensor, group: int = GROUP) -> tuple[torch.Tensor, torch.Tensor]:
    """`w [..., out, in]` -> (`q [..., out, in]` int8 in [-8, 7], `scale [..., out, in/group]`)."""
    if w.shape[-1] % group:
        raise ValueError(f"in_features {w.shape[-1]} is not a multiple of group {group}")
    grouped = w.float().unflatten(-1, (-1, group))  # [..., out, G, group]
    scale = grouped.abs().amax(-1).clamp_min(1e-8) / ((QMAX - QMIN) / 2)  # [..., out, G]
    scale = scale.to(w.dtype)  # quantise with the scale as stored, so dequant is exact
    q = torch.clamp(torch.round(grouped / scale.float().unsqueeze(-1)), QMIN, QMAX)
    return q.flatten(-2).to(torch.int8), scale


def pack(q: torch.Tensor) -> torch.Tensor:
    """`q [..., out, in]` int8 in [-8, 7] -> `packed [..., out, in/8]` int32 (nibble i at bit 4i)."""
    if q.shape[-1] % PACK:
        raise ValueError(f"in_features {q.shape[-1]} is not a multiple of {PACK}")
    nibbles = (q.to(torch.int32) - QMIN).unflatten(-1, (-1, PACK))  # [..., out, in/8, 8]
    shifts = torch.arange(PACK, dtype=torch.int32, device=q.device) * 4
    return (nibbles << shifts).sum(-1, dtype=torch.int32)


def unpack(packed: torch.Tensor) -> torch.Tensor:
    """`packed [..., out, in/8]` int32 -> `q [..., out, in]` int8 in [-8, 7]."""
    shifts = torch.arange(PACK, dtype=torch.int32, device=packed.device) * 4
    nibbles = (packed.unsqueeze(-1) >> shifts) & 0xF  # [..., out, in/8, 8]
    return (nibbles.flatten(-2) + QMIN).to(torch.int8)


def dequantize(weight: Int4Weight, dtype: torch.dtype = torch.bfloat16) -> torch.Tensor:
    """INT4 weight -> dense `[..., out, in]` in `dtype` (q * scale, computed in fp32)."""
    q = unpack(weight.packed).float().unflatten(-1, (-1, weight.group))  # [..., out, G, group]
    return (q * weight.scale.float().unsqueeze(-1)).flatten(-2).to(dtype)


def quantize_weight(w: torch.Tensor, group: int = GROUP) -> Int4Weight:
    """Dense `w [..., out, in]` -> packed `Int4Weight` (what a checkpoint holds)."""
    q, scale = quantize(w, group)
    return Int4Weight(pack(q), scale, group)
