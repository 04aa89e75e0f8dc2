"""The swarm's own tools: `create_subagent`, `assign_task`, `final_answer`.

They live in swarm/, not tools/: tools/ may not import swarm/, and these parsers raise swarm
errors.
Parsing turns a model's raw arguments into a typed spec or a `ModelBehaviourError`
whose message tells the model how to fix its call.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

from swarm import codec
from swarm.errors import ModelBehaviourError
from tools.base import Json

CREATE_SUBAGENT = "create_subagent"
ASSIGN_TASK = "assign_task"
FINAL_ANSWER = "final_answer"
SWARM_TOOLS = frozenset({CREATE_SUBAGENT, ASSIGN_TASK, FINAL_ANSWER})
ORCHESTRATOR = "orchestrator"

NAME_RE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
ATTACHMENT_RE = re.compile(r"^(image|video):\d+(@\d\d:\d\d(:\d\d)?-\d\d:\d\d(:\d\d)?)?$")


@dataclass(slots=True, frozen=True)
class AgentSpec:
    name: str
    system_prompt: str
    tools: tuple[str, ...] = ()


@dataclass(slots=True, frozen=True)
class TaskSpec:
    agent: str
    task: str
    attachments: tuple[str, ...] = ()


def _function(name: str, description: str, props: Json, required: list[str], strict: bool) -> Json:
    params: Json = {"type": "object", "properties": props, "required": required}
    if strict:
        params["additionalProperties"] = False
    fn: Json = {"name": name, "description": description, "parameters": params}
    if strict:
        fn["strict"] = True
    return {"type": "function", "function": fn}


MEDIA_REF_PATTERN = r"^(image|video):[0-9]+(@[0-9:.]*-[0-9:.]*)?$"


# Bounds a small model (required mode) writes under: constrained decoding closes each string,
# list and name there, so every call's JSON ends within the small-model step limit
# (`SMALL_MODEL_DEFAULTS["max_step_tokens"]`). Without them a 135M model loops inside a string
# or repeats list items until the run's deadline (one `create_subagent` call ran 1,081 tokens).
# Patterns, not maxLength (see _brief); xgrammar's cached compile of a `{0,n}` pattern fails
# above n = 128 (an internal check), so no bound here may exceed that.
BRIEF_CHARS = 128
BRIEF_NAME_CHARS = 32


def create_subagent_schema(
    tool_names: Collection[str], *, strict: bool, brief: bool = False
) -> Json:
    tools: Json = {"type": "array", "items": {"type": "string"}}
    if tool_names:
        tools["items"] = {"type": "string", "enum": sorted(tool_names)}
        if strict:
            tools["maxItems"] = len(tool_names)
    name: Json = {
        "type": "string",
        "description": "Unique name for its role (not a tool name), letters/digits/_.- only.",
    }
    if strict:  # the pattern parse_create checks, so a constrained name is always valid
        name["pattern"] = f"^[A-Za-z0-9_.-]{{1,{BRIEF_NAME_CHARS if brief else 64}}}$"
    props = {
        "name": name,
        "system_prompt": _brief(
            {"type": "string", "description": "The sub-agent's persona and rules."}, brief
        ),
        "tools": {**tools, "description": "Tools the sub-agent may use."},
    }
    desc = "Define a reusable sub-agent: a persona plus the tools it may use."
    return _function(CREATE_SUBAGENT, desc, props, ["name", "system_prompt"], strict)


def _brief(prop: Json, brief: bool) -> Json:
    """Bound a string by a pattern, not `maxLength`: xgrammar expands `maxLength` into one
    grammar state per character (2.2 s to compile at 200 on 2 cores, per distinct schema),
    a pattern costs a fraction of that. No quote, backslash or control character: the
    JSON text is the value itself, so the bound counts what the model writes."""
    return {**prop, "pattern": f'^[^"\\\\\\x00-\\x1f]{{0,{BRIEF_CHARS}}}$'} if brief else prop


def assign_task_schema(
    *, strict: bool, agents: Collection[str] = (), has_media: bool = True, brief: bool = False
) -> Json:
    """`has_media=False` drops `attachments` (nothing to attach; small models fill it anyway)."""
    agent: Json = {"type": "string", "description": "Name of a sub-agent you created."}
    if agents and strict:  # constrained decoding then cannot name an unknown agent
        agent["enum"] = sorted(agents)
    props: Json = {
        "agent": agent,
        "task": _brief(
            {"type": "string", "description": "A self-contained task description."}, brief
        ),
    }
    if has_media:
        ref: Json = {"type": "string"}
        if strict:
            ref["pattern"] = MEDIA_REF_PATTERN
        props["attachments"] = {
            "type": "array",
            "items": ref,
            "description": "Media of the request to show, e.g. image:0 or video:1@00:10-02:30.",
        }
    desc = (
        "Run a task on a fresh context of a sub-agent; returns only its final answer. "
        "Several calls in one turn run in parallel."
    )
    return _function(ASSIGN_TASK, desc, props, ["agent", "task"], strict)


def final_answer_schema(*, strict: bool, answer: bool = True, brief: bool = False) -> Json:
    """A sub-agent's answer (`answer=True`); the orchestrator's takes no arguments: it ends the
    delegation, and the answer turn that follows writes the client's answer as it streams."""
    if not answer:
        desc = "Call when the results suffice; you then write the final answer for the user."
        return _function(FINAL_ANSWER, desc, {}, [], strict)
    text: Json = {"type": "string", "description": "The complete final answer."}
    props = {"answer": _brief(text, brief)}
    return _function(FINAL_ANSWER, "Finish with your final answer.", props, ["answer"], strict)


def load_arguments(raw: str) -> Json:
    try:
        args = codec.loads(raw or "{}")
    except codec.DecodeError as exc:
        raise ModelBehaviourError(
            f"arguments are not valid JSON ({exc}); resend a JSON object"
        ) from exc
    if not isinstance(args, dict):
        raise ModelBehaviourError("arguments must be a JSON object")
    return args


def _text(args: Json, key: str, *, required: bool = True) -> str:
    value = args.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise ModelBehaviourError(f"'{key}' must be a non-empty string")
    return value


def _strings(args: Json, key: str) -> tuple[str, ...]:
    value = args.get(key) or []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ModelBehaviourError(f"'{key}' must be a list of strings")
    return tuple(value)


def parse_create(raw: str, available_tools: Collection[str]) -> AgentSpec:
    """`create_subagent` arguments → `AgentSpec`; unknown tools are an error the model fixes."""
    args = load_arguments(raw)
    name = _text(args, "name").strip()
    if not NAME_RE.match(name) or name == ORCHESTRATOR:
        raise ModelBehaviourError(
            f"invalid name {name!r}: use 1-64 letters, digits, '_', '.' or '-' (not 'orchestrator')"
        )
    if name in SWARM_TOOLS or name in available_tools:
        raise ModelBehaviourError(
            f"{name!r} is a tool, not a sub-agent name: name the sub-agent after its role"
        )
    tools = _strings(args, "tools")
    unknown = [t for t in tools if t not in available_tools]
    if unknown:
        raise ModelBehaviourError(
            f"unknown tool(s) {', '.join(unknown)}; available: {', '.join(sorted(available_tools)) or 'none'}"
        )
    return AgentSpec(name, _text(args, "system_prompt"), tuple(dict.fromkeys(tools)))


def parse_assign(raw: str, agents: Collection[str], media: dict[str, int]) -> TaskSpec:
    """`assign_task` arguments → `TaskSpec`; `media` counts the request's images/videos."""
    args = load_arguments(raw)
    agent = _text(args, "agent").strip()
    if agent not in agents:
        known = ", ".join(sorted(agents)) or "none yet: call create_subagent first"
        raise ModelBehaviourError(f"no sub-agent named {agent!r}; known: {known}")
    attachments = _strings(args, "attachments")
    for ref in attachments:
        kind, _, rest = ref.partition(":")
        index = rest.split("@", 1)[0]
        if not ATTACHMENT_RE.match(ref) or int(index) >= media.get(kind, 0):
            raise ModelBehaviourError(
                f"bad attachment {ref!r}: the request has {media.get('image', 0)} image(s) "
                f"and {media.get('video', 0)} video(s); use image:N or video:N@mm:ss-mm:ss"
            )
    return TaskSpec(agent, _text(args, "task"), attachments)


def parse_final(raw: str) -> str:
    return _text(load_arguments(raw), "answer", required=False)
