"""The vLLM plugin: a no-op unless enabled; installs our MoE methods; runs a layer exactly."""

from __future__ import annotations

import sys
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import torch
from vllm.model_executor.custom_op import op_registry_oot
from vllm.model_executor.layers.fused_moe.router.grouped_topk_router import grouped_topk

from kernels import ENABLE_ENV, plugin
from kernels.reference import experts_reference

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def clean_registry() -> Iterator[None]:
    yield
    op_registry_oot.pop("UnquantizedFusedMoEMethod", None)
    if "kernels.vllm_moe" in sys.modules:
        from kernels import vllm_moe

        vllm_moe.ct_wna16.CompressedTensorsWNA16MoEMethod = vllm_moe.VLLM_WNA16_METHOD


def test_entry_point_is_declared() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    plugins = project["project"]["entry-points"]["vllm.general_plugins"]
    assert plugins["kimi_swarm_kernels"] == "kernels.plugin:register"


def test_register_is_a_no_op_unless_enabled(
    monkeypatch: pytest.MonkeyPatch, clean_registry: None
) -> None:
    monkeypatch.delenv(ENABLE_ENV, raising=False)
    plugin.register()
    assert "UnquantizedFusedMoEMethod" not in op_registry_oot


def test_register_installs_both_methods_once(
    monkeypatch: pytest.MonkeyPatch, clean_registry: None
) -> None:
    monkeypatch.setenv(ENABLE_ENV, "1")
    plugin.register()
    plugin.register()  # vLLM may call it more than once per process
    from kernels import vllm_moe

    assert op_registry_oot["UnquantizedFusedMoEMethod"] is vllm_moe.KimiSwarmMoEMethod
    assert vllm_moe.ct_wna16.CompressedTensorsWNA16MoEMethod is vllm_moe.KimiSwarmWNA16MoEMethod


@dataclass(slots=True)
class _Layer:
    """The attributes of vLLM's `RoutedExperts` that our method reads (Kimi-like router)."""

    e_score_correction_bias: torch.Tensor
    top_k: int = 8
    num_expert_group: int = 1
    topk_group: int = 1
    renormalize: bool = True
    routed_scaling_factor: float = 2.827
    scoring_func: str = "sigmoid"
    extra: dict[str, object] = field(default_factory=dict)


def test_layer_run_matches_vllm_routing_and_reference_experts(device: str) -> None:
    from kernels.vllm_moe import run_layer

    t, e, h, n = 5, 384, 40, 24
    layer = _Layer(torch.randn(e, device=device) * 0.1)
    x = torch.randn(t, h, dtype=torch.bfloat16, device=device)
    logits = torch.randn(t, e, device=device)
    w13 = (torch.randn(e, 2 * n, h, device=device) / h**0.5).bfloat16()
    w2 = (torch.randn(e, h, n, device=device) / n**0.5).bfloat16()
    out = run_layer(layer, x, logits, w13, w2)
    vllm_native = getattr(grouped_topk, "_torchdynamo_orig_callable", grouped_topk)
    weights, ids = vllm_native(
        x, logits, 8, True, 1, 1, "sigmoid", 2.827, layer.e_score_correction_bias
    )
    ref = experts_reference(x, w13, w2, weights, ids)
    tol = 0.02 * ref.float().abs().max().item()
    torch.testing.assert_close(out.float(), ref.float(), atol=tol, rtol=0.02)
