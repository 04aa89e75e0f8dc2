"""Which run, agent and task a log line comes from.

The swarm sets these contextvars where a run's work starts (the run's task, each sub-agent
task); tasks started below inherit them. The server's log filter copies them onto every
record, so lines from tools, engines and libraries inside a run carry the ids too.
"""

from __future__ import annotations

from contextvars import ContextVar

RUN_ID: ContextVar[str | None] = ContextVar("kimi_swarm_run_id", default=None)
AGENT: ContextVar[str | None] = ContextVar("kimi_swarm_agent", default=None)
TASK: ContextVar[str | None] = ContextVar("kimi_swarm_task", default=None)


def bind(run_id: str | None = None, agent: str | None = None, task: str | None = None) -> None:
    """Tag the current task's later log lines (and its child tasks'); None leaves a var as is.

    Call it only at the top of a task that belongs to the run: the values stay until it ends.
    """
    for var, value in ((RUN_ID, run_id), (AGENT, agent), (TASK, task)):
        if value is not None:
            var.set(value)
