"""The answer turn: the one model call that writes what the client reads, streamed live.

It runs once the orchestrator calls `final_answer` (or a limit forces the end), without
tools, with the client's final-turn options (`max_tokens`, `stop`, `response_format`,
`logprobs`, ...), and each delta goes to the client as the engine produces it.

Models that call tools natively see their own history. Small models (required mode) see
the client's conversation plus a digest of the completed tasks' answers instead: the
tool-call protocol (`<tool_response>` blocks, `error:` replies) is what they would echo.
"""

from __future__ import annotations

import json
import re

from swarm import prompts
from swarm.engine import ChatRequest
from swarm.protocol_tools import ASSIGN_TASK, ORCHESTRATOR
from swarm.run import Run
from swarm.turn import Forward, Turn
from tools.base import Json

# Tool-protocol markup a small model may copy into a sub-agent's answer: never a finding.
_PROTOCOL = re.compile(
    r"<(tool_call|tool_response)>.*?(</\1>|\Z)|</?(tool_call|tool_response)>|^[ \t]*error:[^\n]*",
    re.DOTALL | re.MULTILINE,
)


async def answer_turn(run: Run, history: list[Json], why: str | None, forward: Forward) -> Turn:
    """Stream the answer (`why`: the limit that forced it, if any)."""
    if run.required_mode:
        messages = digest_messages(run.messages, history)
    else:
        messages = list(history)
        if why is not None:
            messages.append({"role": "user", "content": prompts.FORCE_FINAL.format(why=why)})
    request = ChatRequest(messages=messages)
    return await run.step(ORCHESTRATOR, None, request, answer=True, forward=forward)


def digest_messages(client: list[Json], history: list[Json]) -> list[Json]:
    """The client's conversation (no tool traffic) and one message with the tasks' answers."""
    convo = [
        m
        for m in client
        if m.get("role") in ("system", "developer", "user")
        or (m.get("role") == "assistant" and m.get("content") and not m.get("tool_calls"))
    ]
    found = findings(history)
    text = (
        prompts.ANSWER_FROM_FINDINGS.format(findings="\n\n".join(found))
        if found
        else prompts.ANSWER_NO_FINDINGS
    )
    return [*convo, {"role": "user", "content": text}]


def findings(history: list[Json]) -> list[str]:
    """`task: answer` of every completed task in the orchestrator's history, in call order."""
    tasks: dict[str, str] = {}
    for msg in history:
        for call in msg.get("tool_calls") or []:
            fn = call.get("function") or {}
            if fn.get("name") == ASSIGN_TASK:
                tasks[call.get("id", "")] = _task_text(fn.get("arguments") or "")
    out = []
    for msg in history:
        task = tasks.get(msg.get("tool_call_id") or "") if msg.get("role") == "tool" else None
        content = msg.get("content")
        # Non-completed results start with "[status: ...]": nothing the answer can rely on.
        if task is None or not isinstance(content, str) or content.startswith("["):
            continue
        text = clean(content)
        if text:
            out.append(f"- {task}\n  {text}")
    return out


def clean(text: str) -> str:
    """`text` without tool-protocol markup or echoed `error:` lines."""
    return re.sub(r"\n{3,}", "\n\n", _PROTOCOL.sub("", text)).strip()


def _task_text(raw: str) -> str:
    try:
        args = json.loads(raw)
    except json.JSONDecodeError:
        return "task"
    task = args.get("task") if isinstance(args, dict) else None
    return task.strip() if isinstance(task, str) and task.strip() else "task"
