"""Sub-agent prompts are laid out for the engine's prefix cache: what the tasks of a run share
comes first and is byte-identical; the task itself comes last (benchmarks/prefix_reuse.py
measures the cache hits this gives on the real engine)."""

from __future__ import annotations

import json

from swarm import prompts
from swarm.engine import ChatRequest
from tests.fakes.scripted_engine import call, calls, say
from tests.swarm.conftest import make_harness


def _prefix(request: ChatRequest) -> str:
    """Everything the chat template renders ahead of the task: system turn, then tools."""
    return request.messages[0]["content"] + json.dumps(request.tools, sort_keys=False)


async def test_tasks_of_one_agent_share_everything_before_the_task() -> None:
    tasks = [("assign_task", {"agent": "calc", "task": f"task number {i}"}) for i in range(4)]
    tasks += [("assign_task", {"agent": "other", "task": "something else"})]
    orch = [
        calls(
            ("create_subagent", {"name": "calc", "system_prompt": "You add.", "tools": ["add"]}),
            ("create_subagent", {"name": "other", "system_prompt": "You sleep.", "tools": ["add"]}),
        ),
        calls(*tasks),
        say("done"),
    ]
    for mode in ("auto", "required"):
        h = make_harness({"orchestrator": orch, "calc": [say("a long enough answer")],
                          "other": [say("a long enough answer")]})  # fmt: skip
        await h.run(tool_mode=mode)
        calc = h.engine.requests_for("calc")
        assert len(calc) == 4
        assert len({_prefix(r) for r in calc}) == 1  # byte-identical up to the task
        for i, r in enumerate(calc):
            assert [m["role"] for m in r.messages] == ["system", "user"]
            assert r.messages[1]["content"] == f"task number {i}"
            assert "task number" not in _prefix(r)
        # Different agents of the run share the swarm's lines before their name and role.
        (other,) = h.engine.requests_for("other")
        a, b = calc[0].messages[0]["content"], other.messages[0]["content"]
        assert a.startswith(prompts.SUBAGENT) and b.startswith(prompts.SUBAGENT)
        shared = len(prompts.SUBAGENT) + (len(prompts.SUBAGENT_TOOLS) + 2) * (mode == "required")
        assert a[:shared] == b[:shared] and a != b
        assert a.endswith("Your name: 'calc'. Your role:\nYou add.")


async def test_a_tool_less_agent_gets_the_shared_lines_and_its_role() -> None:
    orch = [call("create_subagent", {"name": "w", "system_prompt": "Write."}),
            call("assign_task", {"agent": "w", "task": "t"}), say("ok")]  # fmt: skip
    h = make_harness({"orchestrator": orch, "w": [say("a long enough answer")]})
    await h.run(tool_mode="required")
    (r,) = h.engine.requests_for("w")
    assert r.messages[0]["content"] == prompts.SUBAGENT + "\n\nYour name: 'w'. Your role:\nWrite."
