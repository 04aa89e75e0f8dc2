"""Resuming a run paused on client tools: its saved state plus the tool results a request carries."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from swarm.errors import InvalidRequest
from swarm.ledger import Ledger, RunStatus
from swarm.orchestrator import OrchestratorState
from swarm.protocol_tools import AgentSpec
from swarm.store import RunStore
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


def resume_id(messages: list[Json]) -> str | None:
    """The run whose client-tool calls the trailing tool messages answer."""
    for msg in reversed(messages):
        if msg.get("role") != "tool":
            return None
        match = _RESUME_ID.match(str(msg.get("tool_call_id", "")))
        if match:
            return match.group(1)
    return None


def restore(store: RunStore, run_id: str, messages: list[Json], *, live: bool) -> Resumed:
    """Load a run waiting on client tools and hand it the results `messages` carry (4xx if not)."""
    found = store.state(run_id)
    if found is None or live:
        raise InvalidRequest(f"no resumable swarm run {run_id!r}", param="swarm.run_id")
    status, saved = found
    if status != RunStatus.REQUIRES_ACTION:
        raise InvalidRequest(
            f"swarm run {run_id!r} is {status}, not waiting for tool results",
            param="swarm.run_id",
        )
    state = OrchestratorState.from_dict(saved["orchestrator"])
    _answer_pending(state, messages)
    return Resumed(
        state=state,
        ledger=Ledger.from_dict(saved["ledger"]),
        agents=_agents(saved["agents"]),
        tasks_started=saved["tasks_started"],
        next_sequence=saved["last_sequence"] + 1,
        wall_base=saved["wall_time_s"],
    )


def _answer_pending(state: OrchestratorState, messages: list[Json]) -> None:
    results = {m.get("tool_call_id"): m for m in messages if m.get("role") == "tool"}
    missing = [cid for cid in state.pending_calls if cid not in results]
    if missing:
        raise InvalidRequest(
            f"missing tool results for call id(s) {', '.join(missing)}", param="messages"
        )
    state.messages.extend(
        {"role": "tool", "tool_call_id": cid, "content": results[cid].get("content", "")}
        for cid in state.pending_calls
    )
    state.pending_calls = []


def _agents(saved: dict[str, Any]) -> dict[str, AgentSpec]:
    return {name: AgentSpec(name, prompt, tuple(tools)) for name, (prompt, tools) in saved.items()}
