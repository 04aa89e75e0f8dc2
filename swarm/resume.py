"""Resuming a run: one paused on client tools (with the tool results a request carries), or one
whose replica died mid-run (`interrupted`: its stage's finished tasks are kept, the rest re-run).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from swarm.engine import Usage
from swarm.errors import InvalidRequest
from swarm.ledger import AgentStats, Ledger, RunStatus
from swarm.orchestrator import OrchestratorState
from swarm.protocol_tools import AgentSpec
from swarm.store import RunStore
from swarm.subagent import TaskResult
from tools.base import Json

# Client-tool call ids carry their run: "call_<run_id>__<step>_<i>".
_RESUME_ID = re.compile(r"^call_(run_[0-9a-f]{24})__")


@dataclass(slots=True)
class Resumed:
    """What a paused run needs to go on: its orchestrator state (tool results appended) and books."""

    state: OrchestratorState
    ledger: Ledger
    agents: dict[str, AgentSpec]
    tasks_started: int
    next_sequence: int
    wall_base: float
    # Finished tasks of the interrupted stage, by task id (not re-run).
    done: dict[str, TaskResult]


def resume_id(messages: list[Json]) -> str | None:
    """The run whose client-tool calls the trailing tool messages answer."""
    for msg in reversed(messages):
        if msg.get("role") != "tool":
            return None
        match = _RESUME_ID.match(str(msg.get("tool_call_id", "")))
        if match:
            return match.group(1)
    return None


async def restore(store: RunStore, run_id: str, messages: list[Json]) -> Resumed:
    """Load a resumable run, take it over (atomically: one replica wins) and hand it what it needs."""
    found = await store.state(run_id)
    if found is None:
        raise InvalidRequest(f"no resumable swarm run {run_id!r}", param="swarm.run_id")
    status, saved = found
    if status not in (RunStatus.REQUIRES_ACTION, RunStatus.INTERRUPTED):
        raise InvalidRequest(
            f"swarm run {run_id!r} is {status}, not waiting for tool results or interrupted",
            param="swarm.run_id",
        )
    state = OrchestratorState.from_dict(saved["orchestrator"])
    if status == RunStatus.REQUIRES_ACTION:
        _answer_pending(state, messages)
    if not await store.claim(run_id, (status,)):
        raise InvalidRequest(f"swarm run {run_id!r} was resumed meanwhile", param="swarm.run_id")
    ledger = Ledger.from_dict(saved["ledger"])
    done: dict[str, TaskResult] = {}
    if state.stage is not None:
        staged = {task_id for _, task_id, _ in state.stage["assigned"]}
        kept = await store.results(run_id)
        for task_id, body in ((t, b) for t, b in kept.items() if t in staged):
            done[task_id] = result = TaskResult.from_dict(body)
            stats = AgentStats(result.agent, task_id, result.steps, Usage(*body["usage"]))
            stats.status = str(result.status)
            ledger.agents[task_id] = stats
    return Resumed(
        state=state,
        ledger=ledger,
        agents=_agents(saved["agents"]),
        tasks_started=saved["tasks_started"],
        next_sequence=await store.last_sequence(run_id) + 1,
        wall_base=saved["wall_time_s"],
        done=done,
    )


def _answer_pending(state: OrchestratorState, messages: list[Json]) -> None:
    results = {m.get("tool_call_id"): m for m in messages if m.get("role") == "tool"}
    missing = [cid for cid in state.pending_calls if cid not in results]
    if missing:
        raise InvalidRequest(
            f"missing tool results for call id(s) {', '.join(missing)}", param="messages"
        )
    state.messages.extend(
        {
            "role": "tool",
            "tool_call_id": state.call_ids.get(cid, cid),  # the id the model's history has
            "content": results[cid].get("content", ""),
        }
        for cid in state.pending_calls
    )
    state.pending_calls = []
    state.call_ids = {}


def _agents(saved: dict[str, Any]) -> dict[str, AgentSpec]:
    return {name: AgentSpec(name, prompt, tuple(tools)) for name, (prompt, tools) in saved.items()}
