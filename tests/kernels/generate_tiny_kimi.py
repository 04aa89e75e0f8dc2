"""Greedy generation on the tiny Kimi K2.5 (dummy weights, seeded, so identical across runs).

`python -m tests.kernels.generate_tiny_kimi MODEL_DIR` prints one JSON line `{"tokens": [...]}`.
Whether our MoE kernels run is decided by the environment (KIMI_SWARM_FUSED_MOE and the plugin
entry point on the path), exactly as in the server.
"""

from __future__ import annotations

import json
import sys

PROMPTS = ["def fibonacci(n):", "import os\nimport sys\n", "class Config:"]
MAX_TOKENS = 6


def main(model_dir: str) -> None:
    from vllm import LLM, SamplingParams

    llm = LLM(
        model=model_dir, load_format="dummy", enforce_eager=True, trust_remote_code=True,
        max_model_len=512, max_num_seqs=4, seed=0, dtype="bfloat16",
        limit_mm_per_prompt={"image": 0, "video": 0},
    )  # fmt: skip
    params = SamplingParams(temperature=0.0, max_tokens=MAX_TOKENS, ignore_eos=True)
    outputs = llm.generate(PROMPTS, params, use_tqdm=False)
    tokens = [list(out.outputs[0].token_ids) for out in outputs]
    llm.llm_engine.engine_core.shutdown()
    print(json.dumps({"tokens": tokens}))


if __name__ == "__main__":
    main(sys.argv[1])
