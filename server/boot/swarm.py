"""`serve` flags for the swarm and its tools, and the start-up hook that attaches them."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from server.boot.flags import Flag, add_flags
from server.context import AppContext
from server.tracing import swarm_trace
from swarm.engine import Json
from swarm.limits import SwarmLimits, ToolMode
from swarm.run import Attacher
from swarm.service import SwarmService
from swarm.store import open_store
from tools.base import ToolRegistry

log = logging.getLogger("kimi_swarm.swarm")

_D = SwarmLimits()


def _or_none(kind: Callable[[str], object]) -> Callable[[str], object]:
    """A flag type that also takes `none` (lifting the limit)."""

    def parse(text: str) -> object:
        return None if text.strip().lower() == "none" else kind(text)

    parse.__name__ = getattr(kind, "__name__", "value")  # argparse names it in errors
    return parse


# (flag suffix, SwarmLimits field, type, help); the default comes from SwarmLimits.
_LIMITS: list[tuple[str, str, Callable[[str], object], str]] = [
    ("max-subagents", "max_subagents", int, "sub-agents one run may create"),
    ("max-concurrent", "max_concurrent", int,
     "sub-agent tasks running at once per run (the rest queue)"),
    ("max-orchestrator-steps", "max_orchestrator_steps", int,
     "model calls of the orchestrator per run"),
    ("max-subagent-steps", "max_subagent_steps", int, "model calls per sub-agent task"),
    ("token-budget", "token_budget", _or_none(int),
     "total tokens (all agents) per run, also capping each call's max_tokens; 'none' = no limit"),
    ("timeout-s", "timeout_s", _or_none(float),
     "wall-clock limit per run in seconds (cancels calls in flight); 'none' = no limit"),
    ("subagent-timeout-s", "subagent_timeout_s", _or_none(float),
     "wall-clock limit per sub-agent task; 'none' = no limit"),
    ("answer-grace-s", "answer_grace_s", float,
     "seconds the orchestrator gets to answer once the run's time is up"),
    ("max-engine-calls", "max_engine_calls", int,
     "engine calls in flight across all runs (shared fairly between runs)"),
    ("max-runs", "max_runs", int, "swarm runs at once (the rest queue)"),
    ("max-queued-runs", "max_queued_runs", int,
     "swarm runs waiting for a slot; beyond it a run gets 429 with Retry-After"),
    ("min-answer-chars", "min_answer_chars", int,
     "shorter sub-agent answers get one continuation turn"),
    ("max-malformed-retries", "max_malformed_retries", int,
     "bad tool calls an agent may fix in a row"),
    ("temperature", "temperature", float,
     "temperature of internal model calls; unset = the model's default"),
    ("top-p", "top_p", float, "top_p of internal model calls; unset = the model's default"),
    ("max-step-tokens", "max_step_tokens", int,
     "completion tokens per internal model call; unset = up to the context"),
    ("answer-max-tokens", "answer_max_tokens", int,
     "max_tokens of the answer turn when the client sets none; unset = up to the context"),
    ("engine-retries", "engine_retries", int,
     "retries of a transient engine error (connect, timeout, 429/5xx, cut stream) per step"),
    ("engine-retry-backoff-s", "engine_retry_backoff_s", float,
     "first retry delay in seconds (doubles per retry, jittered)"),
    ("store", "store_path", str, "the run store: a SQLite file (':memory:' keeps nothing) or a "
     "postgresql:// URL that replicas share"),
    ("retention-runs", "retention_runs", int, "runs kept in the store (oldest pruned)"),
    ("lease-s", "lease_s", float, "seconds after which a run whose replica stopped renewing its "
     "lease is marked interrupted (resumable elsewhere)"),
]  # fmt: skip
FLAGS = (
    Flag("--no-swarm", "Serve plain chat only (no <name>-swarm model).", action="store_true"),
    *(
        Flag(f"--swarm-{suffix}", f"{text} (default {getattr(_D, name)}).", typ,
             getattr(_D, name), dest=f"swarm_{name}")
        for suffix, name, typ, text in _LIMITS
    ),
    Flag("--swarm-tool-mode", "How agents are made to call tools: 'auto' (the model decides) or "
         "'required' (forced, schema-constrained calls; the default for small models such as "
         "the embedded one). Default: chosen per model.", default=None,
         choices=[m.value for m in ToolMode], dest="swarm_tool_mode"),
)  # fmt: skip


def add_swarm_args(parser: argparse.ArgumentParser) -> None:
    add_flags(parser, "swarm (server-wide limits; requests may only tighten them)", FLAGS)


def limits_from_args(args: argparse.Namespace) -> SwarmLimits:
    values = {name: getattr(args, f"swarm_{name}") for _, name, _, _ in _LIMITS}
    return SwarmLimits(**values, tool_mode=args.swarm_tool_mode)


def swarm_on_ready(
    args: argparse.Namespace, tools: Callable[[], AbstractAsyncContextManager[ToolRegistry]]
) -> Callable[[AppContext], AbstractAsyncContextManager[None]]:
    """The hook `create_app` runs once the engine is up: attach tools, store and scheduler."""
    limits = limits_from_args(args)

    @asynccontextmanager
    async def on_ready(ctx: AppContext) -> AsyncIterator[None]:
        if args.no_swarm:
            yield
            return
        store = await asyncio.to_thread(
            open_store,
            limits.store_path,
            retention_runs=limits.retention_runs,
            lease_s=limits.lease_s,
        )
        try:
            async with tools() as registry:
                ctx.swarm = SwarmService(
                    ctx.require_engine(),
                    registry,
                    store,
                    limits,
                    attacher=_attacher(ctx),
                    trace=swarm_trace(
                        "openai" if args.upstream else "vllm", args.otel_capture_content, os.environ
                    ),
                )
                names = ", ".join(registry.names()) or "none"
                log.info("swarm on: tools %s; run store %s", names, store.url)
                yield
        finally:
            ctx.swarm = None
            await asyncio.to_thread(store.close)

    return on_ready


def _attacher(ctx: AppContext) -> Attacher | None:
    """Sub-agent attachments decode only their slice (`video:1@00:10-02:30`) via media/."""
    media = ctx.media
    if media is None:
        return None
    from media.slice import slice_media

    async def attach(ref: str, messages: list[Json]) -> Json:
        return await slice_media(ref, messages, cfg=media.cfg, limits=media.limits)

    return attach
