"""The orchestrator loop as a small state machine: each step ends in one of three outcomes.

`Continue` (tools ran, call the model again), `Finish` (delegation is over: the answer
turn follows, see swarm/answer.py) or `AwaitClient` (the model called the client's own
tools; the run pauses).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from swarm import prompts
from swarm.engine import ChatRequest, Usage
from swarm.errors import ModelBehaviourError
from swarm.events import EventType
from swarm.fanout import fan_out
from swarm.protocol_tools import (
    ASSIGN_TASK,
    CREATE_SUBAGENT,
    FINAL_ANSWER,
    ORCHESTRATOR,
    TaskSpec,
    assign_task_schema,
    create_subagent_schema,
    final_answer_schema,
    parse_assign,
    parse_create,
)
from swarm.run import Run
from swarm.subagent import TaskResult
from swarm.turn import ToolCall, Turn
from tools.base import Json


@dataclass(slots=True)
class Continue:
    pass


@dataclass(slots=True)
class Finish:
    # The limit that forced the end, if any.
    why: str | None = None
    # A turn that already answered in text (auto mode, no tool call): no answer turn follows.
    answered: Turn | None = None


@dataclass(slots=True)
class AwaitClient:
    calls: list[ToolCall]


Outcome = Continue | Finish | AwaitClient


@dataclass(slots=True)
class OrchestratorState:
    """Everything needed to resume the orchestrator (stored as JSON between requests)."""

    messages: list[Json]
    client_tools: list[Json] = field(default_factory=list)
    steps: int = 0
    malformed: int = 0
    tasks_assigned: int = 0
    pending_calls: list[str] = field(default_factory=list)
    # Client-facing id → the id the model's history keeps (Kimi models keep their own ids).
    call_ids: dict[str, str] = field(default_factory=dict)
    # The fan-out in flight: {"replies": {call id: text}, "assigned": [[call id, task id, spec]]}
    # (its assistant turn is the last message); a resumed run re-runs only its unfinished tasks.
    stage: Json | None = None

    def to_dict(self) -> Json:
        return {
            "messages": self.messages,
            "client_tools": self.client_tools,
            "steps": self.steps,
            "malformed": self.malformed,
            "tasks_assigned": self.tasks_assigned,
            "pending_calls": self.pending_calls,
            "call_ids": self.call_ids,
            "stage": self.stage,
        }

    @classmethod
    def from_dict(cls, d: Json) -> OrchestratorState:
        return cls(**d)


def initial_messages(client_messages: list[Json], required: bool) -> list[Json]:
    """Our method first, then the client's system text, then its conversation."""
    system = prompts.ORCHESTRATOR + ("\n\n" + prompts.REQUIRED_MODE if required else "")
    rest: list[Json] = []
    for msg in client_messages:
        if msg.get("role") in ("system", "developer") and isinstance(msg.get("content"), str):
            system += "\n\n" + msg["content"]
        else:
            rest.append(msg)
    return [{"role": "system", "content": system}, *rest]


class Orchestrator:
    def __init__(self, run: Run, state: OrchestratorState, checkpoint: Callable[[], None]) -> None:
        self.run = run
        self.state = state
        self._checkpoint = checkpoint

    async def loop(self, done: dict[str, TaskResult] | None = None) -> Finish | AwaitClient:
        """Run to an answer or a pause; `done` holds an interrupted stage's finished tasks."""
        if self.state.stage is not None:
            outcome = await self._resume_stage(done or {})
            self._checkpoint()
            if not isinstance(outcome, Continue):
                return outcome
        while True:
            outcome = await self.step()
            self._checkpoint()
            if not isinstance(outcome, Continue):
                return outcome

    def _force_reason(self) -> str | None:
        opts = self.run.options
        if self.state.steps >= opts.max_orchestrator_steps - 1:
            return f"orchestrator step limit of {opts.max_orchestrator_steps}"
        if self.state.malformed > opts.max_malformed_retries:
            return "too many malformed tool calls"
        return self.run.budget_reason()

    async def step(self) -> Outcome:
        forced = self._force_reason()
        if forced is not None:  # the answer turn is the last step (swarm/answer.py)
            return Finish(why=forced)
        # Up to the deadline the model may keep working; past it, the answer turn runs in the
        # grace period (bounded by the run's own timeout, swarm/session.py).
        timer = asyncio.timeout_at(self.run.deadline)
        try:
            async with timer:
                turn = await self.run.step(ORCHESTRATOR, None, self._request())
        except TimeoutError:
            if not timer.expired():
                raise
            # The cut call was a step (its engine work is gone); the next one is forced,
            # as budget_reason() now names the deadline.
            self.run.ledger.record_step(ORCHESTRATOR, Usage())
            self.run.ledger.close_stage([])
            self.state.steps += 1
            return Continue()
        self.state.steps += 1
        return await self._act(turn)

    def _request(self) -> ChatRequest:
        run, strict = self.run, self.run.strict
        tools = [
            create_subagent_schema(run.tools.names(), strict=strict, brief=run.required_mode),
            assign_task_schema(
                strict=strict,
                agents=sorted(run.agents),
                has_media=any(run.media.values()),
                brief=run.required_mode,
            ),
            final_answer_schema(strict=strict, answer=False),
        ]
        tools += self.state.client_tools
        return ChatRequest(
            messages=list(self.state.messages),
            tools=tools,
            tool_choice=self._tool_choice(),
            parallel_tool_calls=True,
        )

    def _tool_choice(self) -> str | Json:
        """Required mode walks a new run through create → assign before it may answer."""
        if not self.run.required_mode:
            return "auto"
        if not self.run.agents:
            return _named(CREATE_SUBAGENT)
        if self.state.tasks_assigned == 0:
            return _named(ASSIGN_TASK)
        return "required"

    async def _act(self, turn: Turn) -> Outcome:
        if any(c.name == FINAL_ANSWER for c in turn.calls):
            self.run.ledger.close_stage([])
            return Finish()
        if not turn.calls and self.run.required_mode:
            # Free text never ends a required-mode run (it is where a small model's protocol
            # echoes land): only final_answer does. The turn is dropped and retried.
            self.state.malformed += 1
            self.run.ledger.close_stage([])
            return Continue()
        if not turn.calls:
            self.run.ledger.close_stage([])
            return Finish(answered=turn)
        client_names = {t.get("function", {}).get("name") for t in self.state.client_tools}
        for i, call in enumerate(turn.calls):
            if call.name in client_names:  # ids the next request's tool results will carry
                client_id = f"call_{self.run.run_id}__{self.state.steps}_{i}"
                if self.run.kimi:  # its history keeps `functions.{name}:{idx}`
                    self.state.call_ids[client_id] = call.id
                else:
                    call.id = client_id
        self.state.messages.append(turn.assistant_message())
        replies, assigned = self._plan(turn.calls, client_names)
        return await self._stage(turn.calls, client_names, replies, assigned, {})

    async def _resume_stage(self, done: dict[str, TaskResult]) -> Outcome:
        stage, last = self.state.stage or {}, self.state.messages[-1]
        calls = [
            ToolCall(c["id"], c["function"]["name"], c["function"]["arguments"])
            for c in last.get("tool_calls", [])
        ]
        assigned = [(c, t, TaskSpec(s[0], s[1], tuple(s[2]))) for c, t, s in stage["assigned"]]
        client_names = {t.get("function", {}).get("name") for t in self.state.client_tools}
        return await self._stage(calls, client_names, dict(stage["replies"]), assigned, done)

    def _plan(
        self, calls: list[ToolCall], client_names: set[Any]
    ) -> tuple[dict[str, str], list[tuple[str, str, TaskSpec]]]:
        """create_subagent in call order (replies now); the turn's assign_task calls, checked."""
        replies: dict[str, str] = {}
        assigned: list[tuple[str, str, TaskSpec]] = []  # (call id, task id, spec)
        bad = False
        for call in calls:
            if call.name in client_names:
                continue
            try:
                if call.name == CREATE_SUBAGENT:
                    replies[call.id] = self._create(call)
                elif call.name == ASSIGN_TASK:
                    assigned.append((call.id, *self._assign(call)))
                else:
                    raise ModelBehaviourError(f"unknown tool {call.name!r}")
            except ModelBehaviourError as exc:
                bad = True
                replies[call.id] = f"error: {exc}. Fix the call and try again."
        self.state.malformed = self.state.malformed + 1 if bad else 0
        return replies, assigned

    async def _stage(
        self,
        calls: list[ToolCall],
        client_names: set[Any],
        replies: dict[str, str],
        assigned: list[tuple[str, str, TaskSpec]],
        done: dict[str, TaskResult],
    ) -> Outcome:
        """Every assign_task of the turn in one fan-out (tasks in `done` are not re-run)."""
        if assigned:
            self.state.stage = {
                "replies": replies,
                "assigned": [
                    [c, t, [s.agent, s.task, list(s.attachments)]] for c, t, s in assigned
                ],
            }
            self._checkpoint()
        todo = [(task_id, spec) for _, task_id, spec in assigned if task_id not in done]
        fresh = {r.task_id: r for r in (await fan_out(self.run, todo) if todo else [])}
        results = [done.get(task_id) or fresh[task_id] for _, task_id, _ in assigned]
        self.run.ledger.close_stage([r.steps for r in results])
        for (call_id, _, _), result in zip(assigned, results, strict=True):
            replies[call_id] = result.for_orchestrator()
        self.state.stage = None
        self.state.messages.extend(
            {"role": "tool", "tool_call_id": c.id, "content": replies[c.id]}
            for c in calls
            if c.id in replies
        )
        to_client = {h: c for c, h in self.state.call_ids.items()}
        client_calls = [
            ToolCall(to_client.get(c.id, c.id), c.name, c.arguments)
            for c in calls
            if c.name in client_names
        ]
        if client_calls:
            self.state.pending_calls = [c.id for c in client_calls]
            return AwaitClient(client_calls)
        return Continue()

    def _create(self, call: ToolCall) -> str:
        run = self.run
        spec = parse_create(call.arguments, run.tools.names())
        if spec.name in run.agents:
            raise ModelBehaviourError(f"a sub-agent named {spec.name!r} already exists; reuse it")
        if len(run.agents) >= run.options.max_subagents:
            raise ModelBehaviourError(f"sub-agent limit of {run.options.max_subagents} reached")
        run.agents[spec.name] = spec
        run.trace.create_agent(spec.name, spec.system_prompt, list(spec.tools))
        run.log.emit(
            EventType.AGENT_CREATED,
            agent=spec.name,
            system_prompt=spec.system_prompt,
            tools=list(spec.tools),
        )
        return f"created sub-agent {spec.name!r} with tools: {', '.join(spec.tools) or 'none'}"

    def _assign(self, call: ToolCall) -> tuple[str, TaskSpec]:
        run = self.run
        counts = {kind: len(parts) for kind, parts in run.media.items()}
        spec = parse_assign(call.arguments, run.agents.keys(), counts)
        if run.tasks_started >= run.options.max_subagents:
            raise ModelBehaviourError(
                f"sub-agent budget of {run.options.max_subagents} tasks exhausted; answer with what you have"
            )
        run.tasks_started += 1
        self.state.tasks_assigned += 1
        return f"t{run.tasks_started}", spec


def _named(name: str) -> Json:
    return {"type": "function", "function": {"name": name}}
