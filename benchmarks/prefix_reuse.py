"""Prefix-cache reuse across the sub-agents of one fan-out, on the real engine.

The embedded SmolLM2-135M runs in-process on vLLM (prefix caching on). A scripted
orchestrator fans out TASKS tasks to one sub-agent that has the server's built-in tools;
every sub-agent's first model call goes to the real engine exactly as the swarm builds it
(messages, tool schemas, tool_choice, chat template, the body our engine sends through
vLLM's own chat serving), generating one token; the step then ends with a scripted answer,
so the engine sees exactly the TASKS first-step prompts, all at once.

Measured by vLLM itself, prefix cache reset before each layout: each request's usage
`prompt_tokens_details.cached_tokens` (vLLM's `num_cached_tokens`), and vLLM's
`vllm:prefix_cache_queries` / `vllm:prefix_cache_hits` counters around the fan-out:
- hit_share: the share of all sub-agent prompt tokens served from the prefix cache;
- shared_prefix_served: cached tokens / (TASKS × the tokens the prompts share at the front).
Twice: with the swarm's layout (shared part first, byte-identical across tasks) and with a
naive layout as the anchor (the task at the end of the system prompt). The embedded model's
chat template now renders the tool schemas *before* the system prompt, so the naive layout
shares the tool block too and the two come out close; under a system-first template (the
Hermes convention) the naive layout shared only ~97 tokens.
ratio = our hit_share / the naive layout's.

Run: python benchmarks/prefix_reuse.py   (starts the engine in-process: ~4 GB, ~30 s)
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")

from prometheus_client import REGISTRY

from server.engines.vllm_convert import to_openai_body
from swarm import prompts, subagent
from swarm.engine import ChatRequest, Delta, Engine, EngineEvent, Sampling, ToolCallDelta, Usage
from swarm.limits import SwarmLimits
from swarm.protocol_tools import AgentSpec, TaskSpec
from swarm.run import Run
from swarm.service import SwarmService
from swarm.store import open_store
from tools.base import Json

TASKS = 16
AGENT = "researcher"
ROLE = "You research one company and report its founding year, founders and headquarters."
COMPANIES = [
    "Nokia", "Philips", "Siemens", "Ericsson", "Airbus", "Spotify", "Adyen", "SAP",
    "Volvo", "Lego", "Maersk", "Novo Nordisk", "Heineken", "Unilever", "Bosch", "Shell",
]  # fmt: skip


class FanOutEngine:
    """Orchestrator scripted (create one agent, assign TASKS tasks, answer); sub-agents' first
    step on the real engine (1 token), then a scripted answer."""

    def __init__(self, real: Engine, tools: list[str]) -> None:
        self.real = real
        self.tools = tools
        self.prompts: list[ChatRequest] = []
        self.prompt_tokens = 0  # as the engine counted them
        self.cached: list[int] = []  # per request: prompt tokens served from the cache

    @property
    def info(self) -> Any:
        return self.real.info

    async def stream(self, request: ChatRequest) -> AsyncIterator[EngineEvent]:
        _, agent, _, step = request.request_id.split("/")
        if agent != AGENT:
            for delta in self._orchestrate(int(step)):
                yield delta
            return
        self.prompts.append(request)
        request.sampling = Sampling(max_tokens=1, temperature=0)
        request.stream = False
        # The body our engine sends, through vLLM's own chat serving (as our engine does for
        # requests with tools); its usage reports the prompt tokens the prefix cache served.
        from vllm.entrypoints.openai.chat_completion.protocol import ChatCompletionRequest

        body = to_openai_body(request, self.real.info.name)
        result = await self.real._chat.create_chat_completion(
            ChatCompletionRequest.model_validate(body), None
        )
        u = getattr(result, "usage", None)
        if u is None:
            raise RuntimeError(f"the engine refused the request: {result}")
        details = u.prompt_tokens_details
        self.cached.append(details.cached_tokens if details and details.cached_tokens else 0)
        self.prompt_tokens += u.prompt_tokens
        usage = Usage(u.prompt_tokens, u.completion_tokens)
        args = json.dumps({"answer": "Founded long ago by its founders; headquarters known."})
        yield Delta(tool_calls=[ToolCallDelta(0, "a0", "final_answer", args)])
        yield Delta(finish_reason="tool_calls")
        yield usage

    def _orchestrate(self, step: int) -> list[EngineEvent]:
        if step > 0:
            answer = json.dumps({"answer": "All companies researched."})
            return [Delta(tool_calls=[ToolCallDelta(0, "f", "final_answer", answer)]), Usage()]
        create = {"name": AGENT, "system_prompt": ROLE, "tools": self.tools}
        calls = [ToolCallDelta(0, "c0", "create_subagent", json.dumps(create))]
        for i, company in enumerate(COMPANIES[:TASKS]):
            task = {"agent": AGENT, "task": f"Research {company}: founding year, founders, HQ."}
            calls.append(ToolCallDelta(i + 1, f"c{i + 1}", "assign_task", json.dumps(task)))
        return [Delta(tool_calls=calls), Delta(finish_reason="tool_calls"), Usage()]

    async def close(self) -> None:
        return None


async def naive_first_messages(run: Run, agent: AgentSpec, spec: TaskSpec) -> list[Json]:
    """The anchor: the task is written into the system prompt (a common layout), so it lands
    ahead of the tool schemas the chat template appends to the system turn."""
    system = prompts.SUBAGENT + "\n\n" + prompts.SUBAGENT_TOOLS + "\n\n"
    system += prompts.SUBAGENT_ROLE.format(name=agent.name) + "\n" + agent.system_prompt
    system += f"\n\nYour task: {spec.task}"
    return [{"role": "system", "content": system}, {"role": "user", "content": "Begin."}]


def _counter(name: str) -> float:
    return sum(
        s.value
        for metric in REGISTRY.collect()
        for s in metric.samples
        if s.name == f"{name}_total"
    )


def _tokens(tokenizer: Any, template: str, request: ChatRequest) -> list[int]:
    """The prompt as the chat template renders it, tokenized."""
    text = tokenizer.apply_chat_template(
        request.messages,
        tools=request.tools,
        chat_template=template,
        add_generation_prompt=True,
        tokenize=False,
    )
    return list(tokenizer(text, add_special_tokens=False)["input_ids"])


def _shared_prefix(ids: list[list[int]]) -> int:
    """Tokens the prompts have in common at the front."""
    n = 0
    while all(len(x) > n and x[n] == ids[0][n] for x in ids):
        n += 1
    return n


async def fan_out_once(service: SwarmService, engine: FanOutEngine) -> dict[str, float]:
    engine.prompts.clear()
    engine.prompt_tokens = 0
    engine.cached.clear()
    q0, h0 = _counter("vllm:prefix_cache_queries"), _counter("vllm:prefix_cache_hits")
    request = ChatRequest(messages=[{"role": "user", "content": "Research 16 companies."}])
    summary: Any = None
    async for item in service.run(request, service.options(None)):
        summary = item
    assert summary.status == "completed" and len(engine.prompts) == TASKS, summary
    await asyncio.sleep(1.5)  # stats reach the prometheus counters on the next log tick
    queries = _counter("vllm:prefix_cache_queries") - q0
    hits = _counter("vllm:prefix_cache_hits") - h0
    return {
        "queries": queries,
        "hits": hits,
        "engine_prompt_tokens": engine.prompt_tokens,
        "cached_tokens": sum(engine.cached),
        "cached_per_request": list(engine.cached),
    }


async def main() -> None:
    from transformers import AutoTokenizer

    from server.boot import default_model
    from server.boot.cli import apply_cpu_defaults, build_parser, use_embedded_default
    from server.boot.tools import tools_config_from_args
    from server.engines.vllm_local import VLLMEngine
    from tools.registry_factory import build_registry

    args = build_parser().parse_args(["--max-num-seqs", "16", "--enable-prefix-caching"])
    use_embedded_default(args)
    apply_cpu_defaults(args)
    registry = build_registry(tools_config_from_args(args))
    tokenizer = AutoTokenizer.from_pretrained(args.model)
    template = default_model.chat_template_path().read_text()
    rows: dict[str, dict[str, float]] = {}
    async with VLLMEngine.start(args) as real:
        real._chat.enable_prompt_tokens_details = True  # usage.prompt_tokens_details
        client = real._client  # reset between layouts, read the cache config
        cache = client.vllm_config.cache_config
        block, caching = cache.block_size, bool(cache.enable_prefix_caching)
        names = sorted({m.name for m in REGISTRY.collect() if "prefix_cache" in m.name})
        print("prefix caching:", caching, "block size:", block, "metrics:", names, flush=True)
        engine = FanOutEngine(real, registry.names())
        limits = SwarmLimits(max_subagents=TASKS, max_concurrent=TASKS, store_path=":memory:")
        service = SwarmService(engine, registry, open_store(":memory:"), limits)
        layouts = {"swarm": subagent.first_messages, "naive": naive_first_messages}
        for name, layout in layouts.items():
            subagent.first_messages = layout  # type: ignore[assignment]
            await client.reset_prefix_cache()
            counts = await fan_out_once(service, engine)
            ids = [_tokens(tokenizer, template, r) for r in engine.prompts]
            shared, prompt = _shared_prefix(ids), sum(len(x) for x in ids)
            rows[name] = {
                **counts,
                "prompt_tokens": prompt,
                "shared_prefix_tokens": shared,
                "hit_share": round(counts["cached_tokens"] / counts["engine_prompt_tokens"], 4),
                "shared_prefix_served": round(counts["cached_tokens"] / (TASKS * shared), 4),
                "metrics_hit_share": round(counts["hits"] / counts["queries"], 4)
                if counts["queries"]
                else None,
            }
            print(name, rows[name], flush=True)
        service.store.close()
    result = {
        "benchmark": "prefix_reuse",
        "tasks": TASKS,
        "block_size": block,
        "prefix_caching": caching,
        "tools": registry.names(),
        **rows,
        "goal_shared_prefix_served": 0.8,
        "ratio": round(rows["swarm"]["hit_share"] / rows["naive"]["hit_share"], 3)
        if rows["naive"]["hit_share"]
        else None,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    asyncio.run(main())
