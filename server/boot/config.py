"""One configuration story: flags > `KIMI_SWARM_<OPTION>` env vars > YAML file > defaults.

Every option of the parser (vLLM's and ours) gets an env var derived from its dest
(`--max-model-len` -> `KIMI_SWARM_MAX_MODEL_LEN`) and a YAML key (`max-model-len` or
`max_model_len`). Env and YAML values become parser defaults after conversion through the
option's own `type`, so flags still win and bad values fail before anything starts.
"""

from __future__ import annotations

import argparse
import json
from argparse import Action, ArgumentParser, Namespace
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

ENV_PREFIX = "KIMI_SWARM_"
CONFIG_ENV = "KIMI_SWARM_CONFIG"
# Dests never taken from env/YAML: help, our own file pointer, vLLM's own `--config` YAML
# (its env name would collide with KIMI_SWARM_CONFIG) and the positional model tag.
SKIPPED_DESTS = frozenset({"help", "config", "config_file", "model_tag"})
# KIMI_SWARM_* variables read elsewhere that are not parser options.
NON_OPTION_ENV = frozenset({CONFIG_ENV, "KIMI_SWARM_CONFIG_FILE", "KIMI_SWARM_CACHE"})
TRUE = frozenset({"1", "true", "yes", "on"})
FALSE = frozenset({"0", "false", "no", "off", ""})
_PLAIN_ACTIONS = (
    argparse._StoreAction,
    argparse._AppendAction,
    argparse._StoreTrueAction,
    argparse._StoreFalseAction,
    argparse.BooleanOptionalAction,
)

PRECEDENCE_HELP = (
    "Every option below and every vLLM option can also be set with an environment variable "
    "KIMI_SWARM_<OPTION> (dashes become underscores, upper case: --max-model-len -> "
    "KIMI_SWARM_MAX_MODEL_LEN; booleans take 1/0, true/false; lists take commas or a JSON "
    "list) or in a YAML file of option: value pairs (--config-file or KIMI_SWARM_CONFIG). "
    "Precedence: flags > environment > YAML file > defaults."
)


class ConfigError(Exception):
    """A configuration value that cannot be used; the message names the option."""


def add_deploy_args(parser: ArgumentParser) -> None:
    """The deployment options: config file, logs, tracing, shutdown deadline."""
    g = parser.add_argument_group("kimi-swarm deployment", PRECEDENCE_HELP)
    g.add_argument(
        "--config-file",
        metavar="PATH",
        default=None,
        help="YAML file of option: value pairs (env KIMI_SWARM_CONFIG). vLLM's own --config "
        "still works and counts as flags.",
    )
    g.add_argument(
        "--log-format",
        choices=("text", "json"),
        default="text",
        help="text: human-readable lines (default); json: one JSON object per line with "
        "request_id and run_id. The level is vLLM's --log-level.",
    )
    g.add_argument(
        "--otel-endpoint",
        metavar="URL",
        default=None,
        help="OTLP/HTTP endpoint for OpenTelemetry traces (default: OTEL_EXPORTER_OTLP_ENDPOINT; "
        "off when neither is set). Needs the `otel` extra.",
    )
    g.add_argument(
        "--otel-capture-content",
        action="store_true",
        default=False,
        help="Record prompts, answers, tool arguments and tool results on the swarm's spans "
        "(off by default; also on with OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true).",
    )
    g.add_argument(
        "--shutdown-timeout-s",
        type=float,
        default=30.0,
        help="On SIGTERM, seconds in-flight requests and swarm runs get to finish before they "
        "are cancelled (default 30).",
    )


def expand_help(argv: Sequence[str]) -> list[str]:
    """Plain `--help` lists every option (vLLM's parser alone shows only group names)."""
    return ["--help=all" if a in ("-h", "--help") else a for a in argv]


def env_name(action: Action) -> str:
    return ENV_PREFIX + action.dest.upper()


def configurable(parser: ArgumentParser) -> dict[str, Action]:
    """dest -> action for every option that env vars and YAML may set."""
    return {
        a.dest: a
        for a in parser._actions
        if a.option_strings and a.dest not in SKIPPED_DESTS and a.help != argparse.SUPPRESS
    }


def document_env(parser: ArgumentParser) -> None:
    """Append each option's env var to its help so `--help` documents all three sources."""
    for action in configurable(parser).values():
        suffix = f" [env {env_name(action)}]"
        if not (action.help or "").endswith(suffix):
            action.help = (action.help or "") + suffix


def apply_config(
    parser: ArgumentParser, argv: Sequence[str], environ: Mapping[str, str]
) -> Namespace:
    """Parse `argv` with env vars and the YAML file as defaults; bad values exit with code 2."""
    actions = configurable(parser)
    sources: dict[str, str] = {}
    try:
        path = _config_path(argv, environ)
        file_values = _from_yaml(parser, Path(path), actions, sources) if path else {}
        env_values = _from_env(parser, environ, actions, sources)
    except ConfigError as exc:
        parser.exit(2, f"{parser.prog}: error: {exc}\n")
    parser.set_defaults(**{**file_values, **env_values})
    args = parser.parse_args(list(argv))
    # Where each non-flag value came from (dest -> "KIMI_SWARM_X" or "config.yaml").
    args.config_sources = {
        k: v for k, v in sources.items() if _not_on_command_line(k, actions, argv)
    }
    return args


def _config_path(argv: Sequence[str], environ: Mapping[str, str]) -> str | None:
    for i, arg in enumerate(argv):
        if arg in ("--config-file", "--config_file"):
            if i + 1 >= len(argv):
                raise ConfigError("--config-file needs a PATH")
            return argv[i + 1]
        if arg.startswith(("--config-file=", "--config_file=")):
            return arg.split("=", 1)[1]
    return environ.get(CONFIG_ENV) or environ.get("KIMI_SWARM_CONFIG_FILE") or None


def _from_env(
    parser: ArgumentParser,
    environ: Mapping[str, str],
    actions: Mapping[str, Action],
    sources: dict[str, str],
) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for dest, action in actions.items():
        name = env_name(action)
        if name in environ:
            values[dest] = resolve(parser, action, environ[name], name)
            sources[dest] = name
    return values


def _from_yaml(
    parser: ArgumentParser, path: Path, actions: Mapping[str, Action], sources: dict[str, str]
) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path} must be a mapping of option: value")
    values: dict[str, Any] = {}
    for key, raw in data.items():
        dest = str(key).lstrip("-").replace("-", "_")
        if dest not in actions:
            raise ConfigError(f"unknown option {key!r} in config file {path}")
        values[dest] = resolve(parser, actions[dest], raw, str(path))
        sources[dest] = str(path)
    return values


def resolve(parser: ArgumentParser, action: Action, raw: Any, origin: str) -> Any:
    """Convert one env/YAML value the way the parser would convert the same flag."""
    opt = _long_option(action)
    try:
        if action.nargs == 0:
            return _flag_value(action, raw)
        items = _split(raw) if _is_list(action) else [_text(raw)]
        values = [_typed(action, item) for item in items]
    except (ValueError, TypeError, argparse.ArgumentTypeError) as exc:
        raise ConfigError(f"invalid value for {opt} (from {origin}): {raw!r}") from exc
    for value in values:
        if action.choices is not None and value not in action.choices:
            choices = ", ".join(map(str, action.choices))
            raise ConfigError(
                f"invalid value for {opt} (from {origin}): {raw!r} (choose from {choices})"
            )
    result: Any = values if _is_list(action) else values[0]
    if isinstance(action, _PLAIN_ACTIONS):
        return result
    # A custom action (e.g. vLLM's LoRA paths) post-processes its values: let it.
    scratch = Namespace(**{action.dest: None})
    action(parser, scratch, result, opt)
    return getattr(scratch, action.dest)


def _flag_value(action: Action, raw: Any) -> Any:
    text = _text(raw).strip().lower()
    if text not in TRUE | FALSE:
        raise ValueError(f"expected true/false, got {raw!r}")
    on = text in TRUE
    if isinstance(action.const, bool) or isinstance(action, argparse.BooleanOptionalAction):
        return on  # the value of the dest itself (store_false: false means the flag was given)
    return action.const if on else action.default


def _typed(action: Action, text: str) -> Any:
    convert = action.type if callable(action.type) else str
    return convert(text)


def _is_list(action: Action) -> bool:
    return (
        action.nargs in ("+", "*")
        or isinstance(action.nargs, int)
        or (isinstance(action, argparse._AppendAction))
    )


def _split(raw: Any) -> list[str]:
    if isinstance(raw, list):
        return [_text(x) for x in raw]
    text = _text(raw).strip()
    if text.startswith("["):
        return [_text(x) for x in json.loads(text)]
    return [part.strip() for part in text.split(",") if part.strip()]


def _text(raw: Any) -> str:
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, dict | list):
        return json.dumps(raw)
    return "" if raw is None else str(raw)


def _long_option(action: Action) -> str:
    longs = [o for o in action.option_strings if o.startswith("--")]
    return longs[0] if longs else action.option_strings[0]


def _not_on_command_line(dest: str, actions: Mapping[str, Action], argv: Sequence[str]) -> bool:
    opts = actions[dest].option_strings
    return not any(a in opts or a.split("=", 1)[0] in opts for a in argv)


def unknown_env(parser: ArgumentParser, environ: Mapping[str, str]) -> list[str]:
    """KIMI_SWARM_* variables that match no option (likely typos; worth a warning)."""
    known = {env_name(a) for a in configurable(parser).values()} | NON_OPTION_ENV
    return sorted(k for k in environ if k.startswith(ENV_PREFIX) and k not in known)
