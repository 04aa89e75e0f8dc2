"""vLLM MoE methods that run our routing + expert kernels (installed by `kernels.plugin`).

Both methods subclass vLLM's own (bf16 `UnquantizedFusedMoEMethod`, INT4
`CompressedTensorsWNA16MoEMethod`) and turn *monolithic*: the runner hands them the router
logits, and `apply_monolithic` runs `fused_route` then `fused_experts` on the layer's weights
kept in checkpoint layout. A layer we cannot serve (expert parallel map, biases, a
non-SiLU activation, custom routing, asymmetric or act-ordered INT4) keeps vLLM's path.
"""

from __future__ import annotations

from typing import Any

import torch
from vllm.model_executor.layers.fused_moe.activation import MoEActivation
from vllm.model_executor.layers.fused_moe.unquantized_fused_moe_method import (
    UnquantizedFusedMoEMethod,
)
from vllm.model_executor.layers.quantization.compressed_tensors.compressed_tensors_moe import (
    compressed_tensors_moe_wna16 as ct_wna16,
)

from kernels.fused_moe import Weight, fused_experts
from kernels.int4 import Int4Weight
from kernels.reference import RoutingSpec
from kernels.routing import fused_route

VLLM_WNA16_METHOD = ct_wna16.CompressedTensorsWNA16MoEMethod


def routing_spec(layer: Any) -> RoutingSpec:
    """The router of a vLLM `RoutedExperts` layer as our `RoutingSpec`."""
    return RoutingSpec(
        top_k=layer.top_k,
        n_group=layer.num_expert_group or 1,
        topk_group=layer.topk_group or 1,
        renormalize=layer.renormalize,
        routed_scaling_factor=layer.routed_scaling_factor,
        scoring=layer.scoring_func,
    )


def layer_supported(layer: Any) -> bool:
    """Whether our kernels implement this layer exactly (else vLLM's path runs)."""
    return (
        layer.use_grouped_topk
        and layer.custom_routing_function is None
        and layer.scoring_func in ("sigmoid", "softmax")
        and layer.expert_map is None
        and not layer.moe_config.has_bias
        and layer.activation == MoEActivation.SILU
        and not layer.apply_router_weight_on_input
        and layer.swiglu_limit is None
    )


def run_layer(layer: Any, x: torch.Tensor, logits: torch.Tensor, w13: Weight, w2: Weight):
    """Route `logits [T, E]` and run the experts on `x [T, H]` -> `[T, H]`."""
    bias = layer.e_score_correction_bias
    weights, ids = fused_route(logits, None if bias is None else bias.data, routing_spec(layer))
    return fused_experts(x, w13, w2, weights, ids)


class _OursWhenSupported:
    """Mixed into a vLLM MoE method: monolithic on our kernels where `_supported`, else vLLM's."""

    _ours: bool = False

    def _supported(self, layer: Any) -> bool:
        return layer_supported(layer)

    def _weights(self, layer: Any) -> tuple[Weight, Weight]:
        raise NotImplementedError

    def process_weights_after_loading(self, layer: Any) -> None:
        self._ours = self._supported(layer)
        if not self._ours:  # e.g. CPU prepacking for vLLM's own kernel
            super().process_weights_after_loading(layer)  # type: ignore[misc]

    @property
    def is_monolithic(self) -> bool:
        return self._ours or super().is_monolithic  # type: ignore[misc]

    def apply_monolithic(
        self,
        layer: Any,
        x: torch.Tensor,
        router_logits: torch.Tensor,
        input_ids: torch.Tensor | None = None,
    ) -> torch.Tensor:
        if not self._ours:
            return super().apply_monolithic(layer, x, router_logits, input_ids)  # type: ignore[misc]
        return run_layer(layer, x, router_logits, *self._weights(layer))


class KimiSwarmMoEMethod(_OursWhenSupported, UnquantizedFusedMoEMethod):
    """bf16 experts: `w13_weight [E, 2N, H]`, `w2_weight [E, H, N]` left in checkpoint layout."""

    def _weights(self, layer: Any) -> tuple[Weight, Weight]:
        return layer.w13_weight, layer.w2_weight


class KimiSwarmWNA16MoEMethod(_OursWhenSupported, VLLM_WNA16_METHOD):  # type: ignore[misc,valid-type]
    """INT4 experts (compressed-tensors pack_quantized): `*_weight_packed` + `*_weight_scale`."""

    def _supported(self, layer: Any) -> bool:
        quant = self.weight_quant
        symmetric_int4 = self.num_bits == 4 and self.symmetric and self.group_size > 0
        plain_order = getattr(quant, "actorder", None) in (None, "static")
        return symmetric_int4 and plain_order and layer_supported(layer)

    def _weights(self, layer: Any) -> tuple[Weight, Weight]:
        g = self.group_size
        w13 = Int4Weight(layer.w13_weight_packed.data, layer.w13_weight_scale.data, g)
        w2 = Int4Weight(layer.w2_weight_packed.data, layer.w2_weight_scale.data, g)
        return w13, w2


def install() -> bool:
    """Make vLLM build our methods; returns False when they were already installed."""
    from vllm.model_executor.custom_op import op_registry_oot

    if op_registry_oot.get("UnquantizedFusedMoEMethod") is KimiSwarmMoEMethod:
        return False
    UnquantizedFusedMoEMethod.register_oot(KimiSwarmMoEMethod, name="UnquantizedFusedMoEMethod")
    # compressed-tensors picks its MoE method through a call-time import of this module
    # attribute (compressed_tensors_moe.py, `get_moe_method`), so rebinding it is the hook.
    ct_wna16.CompressedTensorsWNA16MoEMethod = KimiSwarmWNA16MoEMethod
    return True
