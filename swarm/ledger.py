"""Accounting: per-agent steps and usage, stages, CriticalSteps and the run summary.

A *step* is one model call of one agent. A *stage* is one orchestrator step plus
the sub-agent tasks it launched: CriticalSteps = Σ_stages (1 + max_i steps(task_i)).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from swarm.engine import Usage
from tools.base import Json


class TaskStatus(enum.StrEnum):
    COMPLETED = "completed"
    FAILED = "failed"
    TIMEOUT = "timeout"
    CANCELLED = "cancelled"


class RunStatus(enum.StrEnum):
    RUNNING = "running"
    # Paused on the client's own tools; resumed by the next request with their results.
    REQUIRES_ACTION = "requires_action"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    # Its replica died mid-run (lease expired); resumable on any replica.
    INTERRUPTED = "interrupted"


@dataclass(slots=True)
class AgentStats:
    """One agent instance: the orchestrator, or one sub-agent task."""

    name: str
    task: str | None = None
    steps: int = 0
    usage: Usage = field(default_factory=Usage)
    status: str = "running"

    def to_dict(self) -> Json:
        u = self.usage
        usage = {
            "prompt_tokens": u.prompt_tokens,
            "completion_tokens": u.completion_tokens,
            "total_tokens": u.total_tokens,
        }
        out: Json = {"name": self.name, "steps": self.steps, "usage": usage, "status": self.status}
        if self.task is not None:
            out["task"] = self.task
        return out

    @classmethod
    def from_dict(cls, d: Json) -> AgentStats:
        u = d["usage"]
        usage = Usage(u["prompt_tokens"], u["completion_tokens"])
        return cls(d["name"], d.get("task"), d["steps"], usage, d["status"])


@dataclass(slots=True)
class Ledger:
    # Keyed by instance: "orchestrator" or a task id ("t1", "t2", ...).
    agents: dict[str, AgentStats] = field(default_factory=dict)
    # Each stage's contribution to CriticalSteps.
    stages: list[int] = field(default_factory=list)
    # Σ usage over `agents`, kept up to date by `agent`/`record_step` (the token budget is
    # checked before every step: summing 1000 agents each time made a fan-out quadratic).
    # Valid while `_counted == len(agents)`: an agent added to `agents` directly recounts it.
    _total: Usage = field(default_factory=Usage, repr=False, compare=False)
    _counted: int = field(default=0, repr=False, compare=False)

    def agent(self, key: str, name: str, task: str | None = None) -> AgentStats:
        stats = self.agents.get(key)
        if stats is None:
            if self._counted == len(self.agents):
                self._counted += 1  # a new agent has used nothing yet
            stats = self.agents[key] = AgentStats(name, task)
        return stats

    def record_step(self, key: str, usage: Usage) -> None:
        stats = self.agents[key]
        stats.steps += 1
        stats.usage += usage
        if self._counted == len(self.agents):
            self._total += usage

    def close_stage(self, task_steps: list[int]) -> None:
        self.stages.append(1 + max(task_steps, default=0))

    @property
    def critical_steps(self) -> int:
        return sum(self.stages)

    @property
    def total_steps(self) -> int:
        return sum(a.steps for a in self.agents.values())

    @property
    def total_tokens(self) -> int:
        """Tokens of every agent (what the budget checks before each step; no copy)."""
        return self._sum().total_tokens

    def usage(self) -> Usage:
        """Total usage of every agent (a copy)."""
        t = self._sum()
        return Usage(t.prompt_tokens, t.completion_tokens, t.reasoning_tokens)

    def _sum(self) -> Usage:
        if self._counted != len(self.agents):
            total = Usage()
            for a in self.agents.values():
                total += a.usage
            self._total, self._counted = total, len(self.agents)
        return self._total

    def to_dict(self, agents: list[Json] | None = None) -> Json:
        """`agents`: this ledger's agents already as dicts, in order (one pass serves both the
        run record and the state: a checkpoint of a thousand-task run makes them once)."""
        if agents is None:
            agents = [a.to_dict() for a in self.agents.values()]
        return {"agents": dict(zip(self.agents, agents, strict=True)), "stages": self.stages}

    @classmethod
    def from_dict(cls, d: Json) -> Ledger:
        agents = {k: AgentStats.from_dict(v) for k, v in d["agents"].items()}
        return cls(agents, list(d["stages"]))


@dataclass(slots=True, frozen=True)
class RunSummary:
    """The response's `swarm` object (also the run record's core)."""

    run_id: str
    status: RunStatus
    critical_steps: int
    total_steps: int
    wall_time_s: float
    agents: list[Json]

    @property
    def ratio(self) -> float:
        return self.total_steps / self.critical_steps if self.critical_steps else 0.0

    def to_dict(self) -> Json:
        return {
            "run_id": self.run_id,
            "status": str(self.status),
            "critical_steps": self.critical_steps,
            "total_steps": self.total_steps,
            "ratio": round(self.ratio, 4),
            "wall_time_s": round(self.wall_time_s, 4),
            "agents": self.agents,
        }

    @classmethod
    def of(
        cls,
        run_id: str,
        status: RunStatus,
        ledger: Ledger,
        wall_time_s: float,
        agents: list[Json] | None = None,
    ) -> RunSummary:
        """`agents`: the ledger's agents as dicts (`Ledger.to_dict`'s), left unchanged."""
        if agents is None:
            agents = [a.to_dict() for a in ledger.agents.values()]
        if status is not RunStatus.RUNNING:  # the orchestrator ends with the run
            agents = [
                a if a["status"] != "running" else {**a, "status": str(status)} for a in agents
            ]
        return cls(run_id, status, ledger.critical_steps, ledger.total_steps, wall_time_s, agents)
