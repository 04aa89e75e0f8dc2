"""INT4 pack / unpack / quantise against compressed-tensors and a plain per-group reference."""

from __future__ import annotations

import pytest
import torch
from compressed_tensors.compressors.pack_quantized.helpers import pack_to_int32, unpack_from_int32

from kernels.int4 import GROUP, Int4Weight, dequantize, pack, quantize, quantize_weight, unpack


def test_pack_matches_compressed_tensors() -> None:
    q = torch.randint(-8, 8, (3, 24, 64), dtype=torch.int8)  # [E, out, in]
    ours = pack(q)
    theirs = pack_to_int32(q, num_bits=4, packed_dim=1)
    assert torch.equal(ours, theirs)
    assert torch.equal(unpack(ours), unpack_from_int32(theirs, 4, q.shape, packed_dim=1))
    assert torch.equal(unpack(ours), q)


def test_quantize_dequantize_matches_plain_reference() -> None:
    w = torch.randn(5, 96, dtype=torch.bfloat16)  # [out, in], 3 groups of 32
    weight = quantize_weight(w)
    # plain reference: symmetric per group of 32, scale = absmax / 7.5, q in [-8, 7]
    groups = w.float().view(5, 3, GROUP)
    scale = groups.abs().amax(-1, keepdim=True) / 7.5
    q = torch.clamp(torch.round(groups / scale.bfloat16().float()), -8, 7)
    expected = (q * scale.bfloat16().float()).view(5, 96)
    assert torch.allclose(dequantize(weight, torch.float32), expected, atol=1e-6)
    err = (dequantize(weight, torch.float32) - w.float()).abs().view(5, 3, GROUP)
    # at most half a step off, plus what rounding the scale to bf16 costs at the clipped top
    assert bool((err <= scale * 0.55).all())


def test_int4_weight_validates_shapes() -> None:
    q, scale = quantize(torch.randn(4, 64))
    with pytest.raises(ValueError, match="does not match"):
        Int4Weight(pack(q), scale[:, :1])
    with pytest.raises(ValueError, match="multiple of group"):
        quantize(torch.randn(4, 40))
