"""Server-wide swarm limits (CLI flags) and per-request options (`extra_body["swarm"]`).

Per-request options may only tighten the server's limits; anything else is a 400
naming the offending `swarm.<field>`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, fields
from typing import Any

from swarm.engine import ModelInfo
from swarm.errors import InvalidRequest


class ToolMode(enum.StrEnum):
    """How agents are made to call tools.

    AUTO: `tool_choice="auto"`; a turn without tool calls is the answer.
    REQUIRED: every turn must call a tool (`"strict"` schemas, `tool_choice` required
    or named); answers come through a `final_answer(answer)` tool. Small models
    (the embedded SmolLM2) write prose under "auto", so they need this mode.
    """

    AUTO = "auto"
    REQUIRED = "required"


# Model families that call tools reliably under tool_choice="auto".
NATIVE_TOOL_CALLERS = ("kimi", "gpt-", "qwen", "deepseek", "claude", "mistral", "llama-3")


def default_tool_mode(info: ModelInfo) -> ToolMode:
    """AUTO for native tool callers or engines without structured outputs, else REQUIRED."""
    name = info.name.lower()
    if not info.structured_outputs or any(tag in name for tag in NATIVE_TOOL_CALLERS):
        return ToolMode.AUTO
    return ToolMode.REQUIRED


# Defaults for small models (those `default_tool_mode` puts in required mode), used where the
# operator kept the library default: a 135M model's swarm is one definition, one fan-out of
# short tasks and an answer; longer loops only repeat its mistakes. Its tool-call JSON is
# bounded by the schemas (protocol_tools.BRIEF_*) to fit `max_step_tokens`; its answer turn,
# when the client sets no `max_tokens`, stops at `answer_max_tokens` instead of the context end.
SMALL_MODEL_DEFAULTS: dict[str, Any] = {
    "max_orchestrator_steps": 4,
    "max_subagent_steps": 3,
    "subagent_timeout_s": 30.0,
    "max_step_tokens": 320,
    "answer_max_tokens": 256,
}


@dataclass(slots=True)
class SwarmLimits:
    """Server-wide limits; the CLI exposes one `--swarm-<field>` flag per field."""

    max_subagents: int = 100
    max_concurrent: int = 16
    max_orchestrator_steps: int = 15
    max_subagent_steps: int = 100
    # On by default; None (flag value `none`) lifts a limit.
    token_budget: int | None = 2_000_000
    timeout_s: float | None = 900.0
    subagent_timeout_s: float | None = 300.0
    # After the run's wall-clock limit, the orchestrator has this long to write its answer.
    answer_grace_s: float = 30.0
    # Server-wide: engine calls in flight across all runs (shared fairly), runs at once,
    # and runs waiting for a slot (beyond that: 429 with Retry-After).
    max_engine_calls: int = 256
    max_runs: int = 64
    max_queued_runs: int = 256
    # None: chosen per model by `default_tool_mode`.
    tool_mode: ToolMode | None = None
    # Sub-agent answers shorter than this get one continuation turn.
    min_answer_chars: int = 8
    # Consecutive malformed tool calls an agent may fix before it is forced to answer.
    max_malformed_retries: int = 3
    # Transient engine errors retried inside a step, with back-off from this base delay.
    engine_retries: int = 2
    engine_retry_backoff_s: float = 0.5
    # The swarm's own sampling for internal calls (None: the model's default); the client's
    # options shape the answer turn only (swarm/call_options.py).
    temperature: float | None = None
    top_p: float | None = None
    max_step_tokens: int | None = None
    # The answer turn's max_tokens when the client sets none (None: up to the context).
    answer_max_tokens: int | None = None
    # A SQLite file, ':memory:', or a postgresql:// URL shared by replicas.
    store_path: str = "~/.cache/kimi-swarm/runs.sqlite3"
    retention_runs: int = 1000
    # Seconds a replica's claim on the runs it drives lasts without renewal (renewed every third).
    lease_s: float = 10.0

    def __post_init__(self) -> None:
        for name in ("max_engine_calls", "max_runs", "answer_grace_s"):
            _check_positive(name, getattr(self, name), ValueError)
        if self.max_queued_runs < 0:
            raise ValueError("max_queued_runs must be >= 0")
        for name in ("max_subagents", "max_concurrent", "max_orchestrator_steps"):
            _check_positive(name, getattr(self, name), ValueError)
        _check_positive("max_subagent_steps", self.max_subagent_steps, ValueError)
        _check_positive("retention_runs", self.retention_runs, ValueError)
        if self.engine_retries < 0 or self.engine_retry_backoff_s < 0:
            raise ValueError("engine_retries and engine_retry_backoff_s must be >= 0")
        _check_positive("lease_s", self.lease_s, ValueError)
        for name in (*_OPTIONAL_CAPS, "answer_max_tokens"):
            value = getattr(self, name)
            if value is not None:
                _check_positive(name, value, ValueError)
        if self.tool_mode is not None:
            self.tool_mode = ToolMode(self.tool_mode)


@dataclass(slots=True)
class SwarmOptions:
    """The effective limits of one run (server limits tightened by the request)."""

    max_subagents: int
    max_concurrent: int
    max_orchestrator_steps: int
    max_subagent_steps: int
    token_budget: int | None
    timeout_s: float | None
    subagent_timeout_s: float | None
    tool_mode: ToolMode
    min_answer_chars: int
    max_malformed_retries: int
    temperature: float | None = None
    top_p: float | None = None
    max_step_tokens: int | None = None
    answer_max_tokens: int | None = None
    # Resume this run (otherwise detected from the client's tool-result ids).
    run_id: str | None = None
    answer_grace_s: float = 30.0


_INT_CAPS = ("max_subagents", "max_concurrent", "max_orchestrator_steps", "max_subagent_steps")
_OPTIONAL_CAPS = ("token_budget", "timeout_s", "subagent_timeout_s", "max_step_tokens")
# Sampling of internal calls: any valid value (name → (low, high)).
_SAMPLING = {"temperature": (0.0, 2.0), "top_p": (0.0, 1.0)}
_ACCEPTED = {
    *_INT_CAPS,
    *_OPTIONAL_CAPS,
    *_SAMPLING,
    "tool_mode",
    "min_answer_chars",
    "run_id",
    "enabled",
}


def parse_options(raw: dict[str, Any] | None, limits: SwarmLimits, info: ModelInfo) -> SwarmOptions:
    """Validate `extra_body["swarm"]` against the server's limits."""
    if raw is not None and not isinstance(raw, dict):
        raise InvalidRequest("swarm must be an object", param="swarm")
    raw = dict(raw or {})
    unknown = sorted(set(raw) - _ACCEPTED)
    if unknown:
        raise InvalidRequest(
            f"unknown swarm option(s) {', '.join(unknown)}; accepted: {', '.join(sorted(_ACCEPTED))}",
            param=f"swarm.{unknown[0]}",
        )
    values: dict[str, Any] = {
        f.name: getattr(limits, f.name) for f in fields(SwarmOptions) if hasattr(limits, f.name)
    }
    values["tool_mode"] = limits.tool_mode or default_tool_mode(info)
    if default_tool_mode(info) is ToolMode.REQUIRED:
        library = SwarmLimits()
        for name, small in SMALL_MODEL_DEFAULTS.items():
            if getattr(limits, name) == getattr(library, name):
                values[name] = small
    for name in (*_INT_CAPS, *_OPTIONAL_CAPS, "min_answer_chars"):
        if raw.get(name) is not None:
            values[name] = _tightened(name, raw[name], getattr(limits, name))
    for name, (low, high) in _SAMPLING.items():
        value = raw.get(name)
        if value is not None:
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise InvalidRequest(f"swarm.{name} must be a number", param=f"swarm.{name}")
            if not low <= value <= high or (name == "top_p" and value == 0):
                raise InvalidRequest(
                    f"swarm.{name} must be in [{low:g}, {high:g}]", param=f"swarm.{name}"
                )
            values[name] = float(value)
    if raw.get("tool_mode") is not None:
        try:
            values["tool_mode"] = ToolMode(raw["tool_mode"])
        except ValueError:
            raise InvalidRequest(
                "swarm.tool_mode must be 'auto' or 'required'", param="swarm.tool_mode"
            ) from None
    run_id = raw.get("run_id")
    if run_id is not None and not isinstance(run_id, str):
        raise InvalidRequest("swarm.run_id must be a string", param="swarm.run_id")
    values["run_id"] = run_id
    return SwarmOptions(**values)


def _tightened(name: str, raw: Any, cap: int | float | None) -> int | float:
    param = f"swarm.{name}"
    integral = name not in ("timeout_s", "subagent_timeout_s")
    if (
        isinstance(raw, bool)
        or not isinstance(raw, int | float)
        or (integral and isinstance(raw, float))
    ):
        kind = "an integer" if integral else "a number"
        raise InvalidRequest(f"{param} must be {kind}", param=param)
    value = raw
    if name == "min_answer_chars":
        if value < 0:
            raise InvalidRequest(f"{param} must be >= 0", param=param)
        return value
    _check_positive(param, value, InvalidRequest)
    if cap is not None and value > cap:
        raise InvalidRequest(f"{param} must be at most {cap:g} (the server's limit)", param=param)
    return value


def _check_positive(name: str, value: float, error: type[Exception]) -> None:
    if value <= 0:
        if error is InvalidRequest:
            raise InvalidRequest(f"{name} must be positive", param=name)
        raise error(f"{name} must be positive, got {value}")
