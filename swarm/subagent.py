"""One sub-agent task: a fresh context, its own tool loop, one final answer."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from swarm import codec, prompts
from swarm.engine import ChatRequest
from swarm.errors import InvalidRequest
from swarm.events import EventType
from swarm.ledger import TaskStatus
from swarm.protocol_tools import FINAL_ANSWER, AgentSpec, TaskSpec, final_answer_schema, parse_final
from swarm.run import Run
from swarm.tool_media import tool_messages
from swarm.turn import ToolCall, Turn
from tools.base import Json, ToolContext, ToolResult


@dataclass(slots=True)
class TaskResult:
    task_id: str
    agent: str
    status: TaskStatus
    answer: str = ""
    steps: int = 0
    reason: str | None = None

    def to_dict(self) -> Json:
        return {
            "task_id": self.task_id,
            "agent": self.agent,
            "status": str(self.status),
            "answer": self.answer,
            "steps": self.steps,
            "reason": self.reason,
        }

    @classmethod
    def from_dict(cls, d: Json) -> TaskResult:
        status = TaskStatus(d["status"])
        return cls(d["task_id"], d["agent"], status, d["answer"], d["steps"], d["reason"])

    def for_orchestrator(self) -> str:
        """The tool result the orchestrator sees: the answer, prefixed by a non-ok status."""
        if self.status is TaskStatus.COMPLETED:
            return self.answer
        head = f"[{self.status}: {self.reason}]" if self.reason else f"[{self.status}]"
        return f"{head} {self.answer}".rstrip()


async def first_messages(run: Run, agent: AgentSpec, spec: TaskSpec) -> list[Json]:
    """System turn, then the task. What all tasks share comes first, byte-identical across
    tasks (the engine's prefix cache serves it once per run): the swarm's lines, then this
    agent's name and role; the chat template appends its tool schemas; only then the task."""
    system = prompts.SUBAGENT
    if agent.tools and run.required_mode:
        system += "\n\n" + prompts.SUBAGENT_TOOLS
    system += "\n\n" + prompts.SUBAGENT_ROLE.format(name=agent.name) + "\n" + agent.system_prompt
    content: str | list[Json] = spec.task
    if spec.attachments:
        parts: list[Json] = [{"type": "text", "text": spec.task}]
        for ref in spec.attachments:
            parts += await _attachment(run, ref)
        content = parts
    return [{"role": "system", "content": system}, {"role": "user", "content": content}]


async def _attachment(run: Run, ref: str) -> list[Json]:
    """The server's attacher decodes only the referenced slice; without one, the whole part."""
    if run.attacher is not None:
        return [await run.attacher(ref, run.messages)]
    kind, _, rest = ref.partition(":")
    index, _, span = rest.partition("@")
    parts = [run.media[kind][int(index)]]
    if span:
        parts.append({"type": "text", "text": f"(look only at {ref}: {span})"})
    return parts


async def run_subagent(run: Run, task_id: str, spec: TaskSpec) -> TaskResult:
    """Loop model calls and tool calls until an answer or the step limit."""
    agent = run.agents[spec.agent]
    stats = run.ledger.agent(task_id, agent.name, task_id)
    try:
        messages = await first_messages(run, agent, spec)
    except InvalidRequest as exc:  # a bad or undecodable attachment: the orchestrator can react
        return TaskResult(task_id, agent.name, TaskStatus.FAILED, "", 0, exc.message)
    max_steps, malformed, continued = run.options.max_subagent_steps, 0, False
    tool_context = run.tool_context(spec.attachments)
    answer = ""
    while stats.steps < max_steps:
        reason = run.budget_reason()
        if reason is not None:
            return TaskResult(task_id, agent.name, TaskStatus.FAILED, answer, stats.steps, reason)
        last = stats.steps == max_steps - 1 or malformed > run.options.max_malformed_retries
        if last and agent.tools:
            why = (
                "last step" if malformed <= run.options.max_malformed_retries else "bad tool calls"
            )
            messages.append({"role": "user", "content": prompts.FORCE_FINAL.format(why=why)})
        turn = await run.step(task_id, task_id, _request(run, agent, messages, last))
        messages.append(turn.assistant_message())
        final = _answer(turn, run.required_mode or not agent.tools)
        if final is not None:
            answer = final
            if len(answer.strip()) >= run.options.min_answer_chars or continued or last:
                return TaskResult(task_id, agent.name, TaskStatus.COMPLETED, answer, stats.steps)
            continued = True
            messages.append({"role": "user", "content": prompts.CONTINUE})
            continue
        results, bad = await _call_tools(run, agent, task_id, turn.calls, tool_context)
        messages.extend(results)
        malformed = malformed + 1 if bad else 0
    why = f"step limit of {max_steps} reached without an answer"
    return TaskResult(task_id, agent.name, TaskStatus.FAILED, answer, stats.steps, why)


def _request(run: Run, agent: AgentSpec, messages: list[Json], last: bool) -> ChatRequest:
    # No tools: a tool-less sub-agent, or the last allowed step, writes its answer as text
    # (small models answer far better in prose than inside a JSON string).
    if not agent.tools or last:
        return ChatRequest(messages=list(messages))
    if not run.required_mode:  # the run's list for this agent, shared (nothing changes it)
        return ChatRequest(
            messages=list(messages), tools=run.schemas_for(agent), tool_choice="auto"
        )
    tools = [*run.schemas_for(agent), final_answer_schema(strict=run.strict, brief=True)]
    return ChatRequest(messages=list(messages), tools=tools, tool_choice="required")


def _answer(turn: Turn, text_is_answer: bool) -> str | None:
    """The turn's final answer, or None when it asks for tools."""
    for call in turn.calls:
        if call.name == FINAL_ANSWER:
            try:
                return parse_final(call.arguments)
            except Exception:
                return call.arguments
    if not turn.calls and text_is_answer:
        return turn.content
    if not turn.calls:  # required mode with tools, but the model wrote prose: take it
        return turn.content
    return None


async def _call_tools(
    run: Run, agent: AgentSpec, task_id: str, calls: list[ToolCall], ctx: ToolContext
) -> tuple[list[Json], bool]:
    """Run one turn's tool calls concurrently; results in call order, plus 'any malformed'."""
    results: list[ToolResult] = [ToolResult("")] * len(calls)
    bad = [False] * len(calls)

    async def one(i: int, call: ToolCall) -> None:
        run.log.emit(
            EventType.TOOL_CALLED,
            agent=agent.name,
            task=task_id,
            call_id=call.id,
            name=call.name,
            arguments=call.arguments,
        )
        if call.name not in agent.tools:
            bad[i] = True
            allowed = ", ".join(agent.tools)
            results[i] = ToolResult(
                f"tool {call.name!r} is not available; use one of: {allowed}", True
            )
        elif (args := _json_object(call.arguments)) is None:
            bad[i] = True
            results[i] = ToolResult("arguments are not a valid JSON object; resend the call", True)
        else:
            with run.trace.tool(task_id, call.id, call.name, call.arguments) as span:
                results[i] = await run.tools.invoke(call.name, args, ctx)
                span.tool_result(results[i].text, results[i].is_error)
        r = results[i]
        run.log.emit(
            EventType.TOOL_RESULT,
            agent=agent.name,
            task=task_id,
            call_id=call.id,
            name=call.name,
            is_error=r.is_error,
            text=r.text[:2000],
        )

    if len(calls) == 1:  # the common case needs no task of its own
        await one(0, calls[0])
    else:
        async with asyncio.TaskGroup() as tg:
            for i, call in enumerate(calls):
                tg.create_task(one(i, call))
    return tool_messages(calls, results, sees_images=ctx.multimodal), any(bad)


def _json_object(raw: str) -> Json | None:
    """The arguments as a dict (parsed once, handed to the tool as-is), or None if malformed."""
    try:
        args = codec.loads(raw or "{}")
    except codec.DecodeError:
        return None
    return args if isinstance(args, dict) else None
