"""What every agent of one run shares: engine, tools, options, events, ledger, budgets."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from swarm.call_options import CallOptions
from swarm.engine import ChatRequest, Delta, Engine, Sampling
from swarm.errors import EngineError
from swarm.events import EventLog, EventType
from swarm.gate import FairGate
from swarm.ledger import Ledger
from swarm.limits import SwarmOptions, ToolMode
from swarm.protocol_tools import AgentSpec
from swarm.retry import TRANSIENT, RetryPolicy, with_retries
from swarm.store import RunStore
from swarm.telemetry import NO_TRACE, RunTrace
from swarm.tool_media import attached_images
from swarm.turn import Forward, Turn, collect
from tools.base import Json, ToolContext, ToolRegistry

# With the context length unknown (an upstream), budgets this large leave max_tokens alone.
UNCAPPED_FROM = 32_768

# Turns an attachment reference (`image:0`, `video:1@00:10-02:30`) into the content part a
# sub-agent sees, given the request's messages; supplied by the server (which decodes media).
Attacher = Callable[[str, list[Json]], Awaitable[Json]]


@dataclass(slots=True)
class Run:
    run_id: str
    engine: Engine
    tools: ToolRegistry
    options: SwarmOptions
    log: EventLog
    ledger: Ledger
    # The client's options split into internal calls and the answer turn.
    calls: CallOptions
    # Media parts of the request in order, by kind ("image", "video").
    media: dict[str, list[Json]] = field(default_factory=dict)
    # The request's messages and the server's attacher (None: attach the whole media part).
    messages: list[Json] = field(default_factory=list)
    attacher: Attacher | None = None
    agents: dict[str, AgentSpec] = field(default_factory=dict)
    tasks_started: int = 0
    # Event-loop time after which no new work starts (None: no wall-clock limit).
    deadline: float | None = None
    semaphore: asyncio.Semaphore = field(default_factory=asyncio.Semaphore)
    # OpenTelemetry spans of this run, parented by agent instance key (off by default).
    trace: RunTrace = NO_TRACE
    # Transient engine errors are retried inside the step (swarm/retry.py).
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    # Where each finished sub-agent result is kept (None: nowhere, e.g. a bare test run).
    store: RunStore | None = None
    # Fingerprint of the API key that created the run (None: the server has no keys).
    owner: str | None = None
    # The server-wide cap on engine calls in flight, shared fairly across runs (None: no cap).
    gate: FairGate | None = None
    # Tool schemas per sub-agent name, built once per run (a fan-out reuses them).
    _schemas: dict[str, list[Json]] = field(default_factory=dict)
    _images: list[bytes] | None = None
    _tool_contexts: dict[tuple[str, ...], ToolContext] = field(default_factory=dict)
    # Fixed for the run, read several times per step: worked out once.
    strict: bool = field(init=False)
    # Kimi models: tool-call ids follow Kimi's `functions.{name}:{idx}` convention.
    kimi: bool = field(init=False)
    required_mode: bool = field(init=False)

    def __post_init__(self) -> None:
        self.strict = self.engine.info.structured_outputs
        self.kimi = "kimi" in self.engine.info.name.lower()
        self.required_mode = self.options.tool_mode is ToolMode.REQUIRED

    def budget_reason(self) -> str | None:
        """Why no further model call may start, or None."""
        budget = self.options.token_budget
        if budget is not None and self.ledger.total_tokens >= budget:
            return f"token budget of {budget} exhausted"
        if self.deadline is not None and asyncio.get_running_loop().time() >= self.deadline:
            return f"wall-clock limit of {self.options.timeout_s:g} s reached"
        return None

    def schemas_for(self, agent: AgentSpec) -> list[Json]:
        if agent.name not in self._schemas:
            self._schemas[agent.name] = self.tools.schemas(agent.tools, strict=self.strict)
        return self._schemas[agent.name]

    def tool_context(self, attachments: Sequence[str] = ()) -> ToolContext:
        """A task's tools see only the request images it was attached (`image:N` numbering
        kept); the request's images are decoded once per run."""
        if self._images is None:
            self._images = [_data_url_bytes(p) for p in self.media.get("image", [])]
        key = tuple(attachments)
        if key not in self._tool_contexts:
            self._tool_contexts[key] = ToolContext(
                images=attached_images(self._images, key),
                multimodal=self.engine.info.multimodal,
            )
        return self._tool_contexts[key]

    async def step(
        self,
        key: str,
        task: str | None,
        request: ChatRequest,
        *,
        answer: bool = False,
        forward: Forward | None = None,
    ) -> Turn:
        """One model call of agent instance `key`, accounted and traced.

        `answer`: the answer turn (the client's final-turn options); `forward` gets each
        delta as the engine produces it.
        """
        stats = self.ledger.agents[key]
        index = stats.steps
        request.request_id = f"{self.run_id}/{stats.name}/{task or 0}/{index}"
        request.affinity_key = self.run_id
        self.calls.apply(request, answer=answer)
        request.sampling = self._capped(request.sampling)
        with self.trace.chat(key, request) as span:
            try:  # the first attempt inline: no retry machinery unless it fails
                turn = await self._call(request, forward)
            except TRANSIENT as exc:
                turn = await with_retries(
                    lambda: self._call(request, forward),
                    self.retry,
                    what=request.request_id,
                    deadline=self.deadline,
                    failed=exc,
                )
            turn.name_calls(request.messages, kimi=self.kimi)
            span.turn(turn)
        self.ledger.record_step(key, turn.usage)
        self.log.emit(
            EventType.AGENT_STEP,
            agent=stats.name,
            task=task,
            step=index,
            finish_reason=turn.finish_reason,
            tool_calls=[c.name for c in turn.calls],
            usage={
                "prompt_tokens": turn.usage.prompt_tokens,
                "completion_tokens": turn.usage.completion_tokens,
            },
        )
        return turn

    def _capped(self, sampling: Sampling) -> Sampling:
        """The sampling with `max_tokens` at most the run's remaining token budget."""
        budget = self.options.token_budget
        if budget is None:
            return sampling
        left = max(1, budget - self.ledger.total_tokens)
        # A cap beyond the context length changes nothing, and some servers refuse one.
        if left >= (self.engine.info.max_model_len or UNCAPPED_FROM):
            return sampling
        if sampling.max_tokens is not None and sampling.max_tokens <= left:
            return sampling
        context = self.engine.info.max_model_len
        if sampling.max_tokens is None and context is not None and left >= context:
            return sampling  # no call can write more than the context holds: no copy per step
        return dataclasses.replace(sampling, max_tokens=left)

    async def _call(self, request: ChatRequest, forward: Forward | None) -> Turn:
        gate = self.gate
        if gate is None:
            return await self._collect(request, forward)
        if not gate.take():  # full: queue fairly for a slot
            await gate.acquire(self.run_id)
        try:
            return await self._collect(request, forward)
        finally:
            gate.release()

    def _collect(self, request: ChatRequest, forward: Forward | None) -> Awaitable[Turn]:
        if forward is None:  # internal calls: nothing reaches the client until the turn ends
            return collect(self.engine, request)
        return _collect_forwarding(self.engine, request, forward)


async def _collect_forwarding(engine: Engine, request: ChatRequest, forward: Forward) -> Turn:
    """One attempt; once a delta went to the client, a retry would repeat it: fail instead."""
    sent = False

    def send(delta: Delta) -> None:
        nonlocal sent
        sent = True
        forward(delta)

    try:
        return await collect(engine, request, send)
    except TRANSIENT as exc:
        if not sent:
            raise
        raise EngineError(f"the answer stream broke after it started: {exc}") from exc


def media_parts(messages: list[Json]) -> dict[str, list[Json]]:
    """The request's image and video content parts, in order (`image:N` indexes them)."""
    found: dict[str, list[Json]] = {"image": [], "video": []}
    for msg in messages:
        content = msg.get("content")
        if not isinstance(content, list):
            continue
        for part in content:
            kind = part.get("type") if isinstance(part, dict) else None
            if kind == "image_url":
                found["image"].append(part)
            elif kind == "video_url":
                found["video"].append(part)
    return found


def _data_url_bytes(part: Json) -> bytes:
    url = (part.get("image_url") or {}).get("url", "")
    if not url.startswith("data:") or "," not in url:
        return b""
    try:
        return base64.b64decode(url.split(",", 1)[1], validate=False)
    except ValueError:
        return b""
