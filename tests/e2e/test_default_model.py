"""The embedded default's first-start conversion (GGUF in the wheel → HF folder), from scratch."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from server.boot import default_model

pytestmark = pytest.mark.engine  # ~25 s of CPU: loads and dequantises the GGUF


def test_first_start_converts_with_progress_then_reuses(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="kimi_swarm.default_model"):
        out = default_model.ensure_converted(tmp_path)
    config = json.loads((out / "config.json").read_text())
    assert config["architectures"] == ["LlamaForCausalLM"]
    assert "quantization_config" not in config
    assert list(out.glob("*.safetensors")) and (out / "tokenizer.json").exists()
    ours = "kimi_swarm.default_model"
    steps = [r.getMessage() for r in caplog.records if r.name == ours]
    assert [s[:5] for s in steps] == ["[1/3]", "[2/3]", "[3/3]"]
    assert not list(tmp_path.glob(".convert-*"))  # the temporary folder is gone
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="kimi_swarm.default_model"):
        assert default_model.ensure_converted(tmp_path) == out
    assert [r for r in caplog.records if r.name == ours] == []  # cached: no second conversion
