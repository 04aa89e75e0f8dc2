"""Fused MoE Triton kernels for Kimi K2.5 shapes, their torch references and vLLM hook.

Import-light on purpose: nothing here imports torch or triton, so `import kernels` is free for
the server. Import the submodules you need:

- `kernels.reference`  readable torch references (routing, bf16 and INT4 experts)
- `kernels.int4`       compressed-tensors `pack_quantized` INT4 pack / unpack / quantise
- `kernels.routing`    fused sigmoid + bias + grouped top-k + renormalise + scale (Triton)
- `kernels.align`      tokens aligned by expert into BLOCK_M tiles
- `kernels.fused_moe`  gate_up GEMM + SiLU-and-mul + down GEMM + weighted top-k sum (Triton)
- `kernels.configs`    tuned block configs (JSON), nearest batch size with a logged fallback
- `kernels.plugin`     the `vllm.general_plugins` entry point (`KIMI_SWARM_FUSED_MOE=1`)
- `kernels.tune`       the script that writes tuned configs
"""

ENABLE_ENV = "KIMI_SWARM_FUSED_MOE"
