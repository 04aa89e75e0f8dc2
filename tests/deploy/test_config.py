"""Flags > KIMI_SWARM_* env > YAML file > defaults, on a small parser and on the real one."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from server.boot.config import add_deploy_args, apply_config, document_env, expand_help, unknown_env


def small_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kimi-swarm serve")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--host", default=None)
    parser.add_argument("--served-model-name", nargs="+", default=None)
    parser.add_argument("--enforce-eager", action="store_true")
    parser.add_argument("--enable-prefix-caching", action=argparse.BooleanOptionalAction)
    parser.add_argument("--tool-allow-host", action="append", default=[])
    parser.add_argument("--dtype", choices=("auto", "half"), default="auto")
    parser.add_argument("--config", default=None)  # vLLM's own YAML: never taken from env
    parser.add_argument("--compilation-config", type=json.loads, default={})
    add_deploy_args(parser)
    document_env(parser)
    return parser


def write_yaml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "kimi.yaml"
    path.write_text(text)
    return path


def test_defaults_without_env_or_file() -> None:
    args = apply_config(small_parser(), [], {})
    assert (args.port, args.log_format, args.shutdown_timeout_s) == (8000, "text", 30.0)
    assert args.config_sources == {}


def test_precedence_flag_over_env_over_yaml(tmp_path: Path) -> None:
    path = write_yaml(tmp_path, "port: 7000\nhost: 10.0.0.1\ndtype: half\n")
    env = {"KIMI_SWARM_CONFIG": str(path), "KIMI_SWARM_PORT": "7100", "KIMI_SWARM_HOST": "::1"}
    args = apply_config(small_parser(), ["--host", "127.0.0.1"], env)
    assert args.host == "127.0.0.1"  # flag beats env and file
    assert args.port == 7100  # env beats file
    assert args.dtype == "half"  # file beats default
    assert args.config_sources == {"port": "KIMI_SWARM_PORT", "dtype": str(path)}


def test_config_file_flag_beats_config_env(tmp_path: Path) -> None:
    chosen = write_yaml(tmp_path, "port: 7001\n")
    args = apply_config(small_parser(), [f"--config-file={chosen}"], {"KIMI_SWARM_CONFIG": "/nope"})
    assert args.port == 7001


def test_booleans_lists_and_json_from_env() -> None:
    env = {
        "KIMI_SWARM_ENFORCE_EAGER": "true",
        "KIMI_SWARM_ENABLE_PREFIX_CACHING": "0",
        "KIMI_SWARM_SERVED_MODEL_NAME": "kimi, kimi-k2.5",
        "KIMI_SWARM_TOOL_ALLOW_HOST": '["10.0.0.0/8", "intranet"]',
        "KIMI_SWARM_COMPILATION_CONFIG": '{"mode": 0}',
    }
    args = apply_config(small_parser(), [], env)
    assert args.enforce_eager is True
    assert args.enable_prefix_caching is False
    assert args.served_model_name == ["kimi", "kimi-k2.5"]
    assert args.tool_allow_host == ["10.0.0.0/8", "intranet"]
    assert args.compilation_config == {"mode": 0}


def test_yaml_native_types(tmp_path: Path) -> None:
    path = write_yaml(
        tmp_path,
        "enforce_eager: true\nserved-model-name: [a, b]\ncompilation-config: {mode: 3}\n"
        "shutdown-timeout-s: 2.5\n",
    )
    args = apply_config(small_parser(), ["--config-file", str(path)], {})
    assert args.enforce_eager is True
    assert args.served_model_name == ["a", "b"]
    assert args.compilation_config == {"mode": 3}
    assert args.shutdown_timeout_s == 2.5


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"KIMI_SWARM_PORT": "abc"}, "invalid value for --port (from KIMI_SWARM_PORT): 'abc'"),
        ({"KIMI_SWARM_DTYPE": "fp64"}, "invalid value for --dtype (from KIMI_SWARM_DTYPE)"),
        ({"KIMI_SWARM_ENFORCE_EAGER": "maybe"}, "invalid value for --enforce-eager"),
        ({"KIMI_SWARM_LOG_FORMAT": "xml"}, "invalid value for --log-format"),
        ({"KIMI_SWARM_CONFIG": "/does/not/exist.yaml"}, "cannot read config file"),
    ],
)
def test_bad_values_exit_2_naming_the_option(
    env: dict[str, str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        apply_config(small_parser(), [], env)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_unknown_yaml_key_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_yaml(tmp_path, "prot: 1\n")
    with pytest.raises(SystemExit):
        apply_config(small_parser(), ["--config-file", str(path)], {})
    assert "unknown option 'prot'" in capsys.readouterr().err


def test_vllm_config_option_is_not_read_from_env(tmp_path: Path) -> None:
    path = write_yaml(tmp_path, "port: 7002\n")
    args = apply_config(small_parser(), [], {"KIMI_SWARM_CONFIG": str(path)})
    assert args.config is None and args.port == 7002


def test_help_names_env_vars_and_unknown_env_is_reported() -> None:
    parser = small_parser()
    text = " ".join(parser.format_help().split())
    assert "[env KIMI_SWARM_PORT]" in text
    assert "flags > environment > YAML file > defaults" in text
    env = {"KIMI_SWARM_PORTT": "1", "KIMI_SWARM_CACHE": "/c", "KIMI_SWARM_PORT": "1"}
    assert unknown_env(parser, env) == ["KIMI_SWARM_PORTT"]
    assert expand_help(["-h", "--port", "1"]) == ["--help=all", "--port", "1"]
