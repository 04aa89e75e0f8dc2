"""Tuned-config files: nearest batch size, logged fallback, round trip."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from kernels import configs
from kernels.configs import BlockConfig, config_file, default_config, pick_config, save_configs


@pytest.fixture
def config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(configs, "CONFIG_DIR", tmp_path)
    monkeypatch.setattr(configs, "device_name", lambda: "test_dev")
    configs.load_configs.cache_clear()
    configs._log_fallback.cache_clear()
    return tmp_path


def test_picks_nearest_batch_size(config_dir: Path) -> None:
    small, large = BlockConfig(block_m=16), BlockConfig(block_m=64, block_n=128)
    save_configs(config_file(384, 256, "test_dev", "torch.bfloat16"), {1: small, 256: large})
    assert pick_config(384, 256, 1, "torch.bfloat16") == small
    assert pick_config(384, 256, 100, "torch.bfloat16") == small
    assert pick_config(384, 256, 200, "torch.bfloat16") == large
    assert pick_config(384, 256, 4096, "torch.bfloat16") == large


def test_missing_file_falls_back_with_one_log(
    config_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="kernels.configs"):
        assert pick_config(8, 24, 1, "int4_w4a16") == default_config(1)
        assert pick_config(8, 24, 2048, "int4_w4a16") == default_config(2048)
    assert [r.message for r in caplog.records].count(
        "no tuned MoE config E=8,N=24,device=test_dev,dtype=int4_w4a16.json; "
        "using the built-in defaults"
    ) == 1


def test_rejects_bad_block_sizes() -> None:
    with pytest.raises(ValueError, match="power of two"):
        BlockConfig(block_m=24)


def test_tune_writes_a_loadable_file(tmp_path: Path) -> None:
    from kernels.configs import load_configs
    from kernels.tune import main

    out = tmp_path / "tuned.json"
    main(["--experts", "8", "--intermediate", "24", "--hidden", "40", "--top-k", "2",
          "--batches", "1", "3", "--repeat", "1", "--smoke", "--out", str(out)])  # fmt: skip
    table = load_configs(out)
    assert table is not None and sorted(table) == [1, 3]
