"""Which of the client's options reach which model call of a swarm run.

Internal calls (orchestrator decisions, sub-agent steps) use the swarm's own sampling:
they never inherit the client's `n`, `max_tokens`, `stop`, `logprobs`, `response_format`,
`tool_choice` or `seed`, which would cut or bend tool-call JSON. Those shape the **answer
turn** only: the one call that writes what the client reads. Options that steer the model
rather than its output (`chat_template_kwargs` such as Kimi's thinking switch,
`reasoning_effort`, `parallel_tool_calls`, vLLM's `top_k`/`min_p`/`repetition_penalty`)
reach every call.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from swarm.engine import ChatRequest, Sampling
from swarm.errors import InvalidRequest
from tools.base import Json

# Engine extras that steer decoding without shaping the output: safe on tool-call turns.
INTERNAL_EXTRAS = frozenset({"top_k", "min_p", "repetition_penalty", "reasoning_effort"})


@dataclass(slots=True, frozen=True)
class CallOptions:
    """What one run's model calls carry, split into internal calls and the answer turn."""

    internal: Sampling = field(default_factory=Sampling)
    answer: Sampling = field(default_factory=Sampling)
    chat_template_kwargs: Json | None = None
    internal_extra: Json = field(default_factory=dict)
    answer_extra: Json = field(default_factory=dict)
    parallel_tool_calls: bool | None = None

    def apply(self, request: ChatRequest, *, answer: bool = False) -> None:
        """Fill one call's sampling and pass-through options (tools stay the swarm's)."""
        request.sampling = self.answer if answer else self.internal
        request.chat_template_kwargs = self.chat_template_kwargs
        request.extra = dict(self.answer_extra if answer else self.internal_extra)
        if request.tools and self.parallel_tool_calls is not None:
            request.parallel_tool_calls = self.parallel_tool_calls


def call_options(
    client: ChatRequest,
    *,
    temperature: float | None = None,
    top_p: float | None = None,
    max_step_tokens: int | None = None,
    answer_max_tokens: int | None = None,
) -> CallOptions:
    """Split a client's request into internal-call and answer-turn options (400 on `n>1`)."""
    if client.sampling.n != 1:
        raise InvalidRequest(
            "n > 1 is not supported in swarm mode (one run answers once); "
            "send n separate requests instead",
            param="n",
        )
    internal = Sampling(temperature=temperature, top_p=top_p, max_tokens=max_step_tokens)
    answer = replace(client.sampling, n=1)
    if answer.max_tokens is None:  # the client's limit, else the swarm's (None: the context)
        answer.max_tokens = answer_max_tokens
    if answer.temperature is None:
        answer.temperature = temperature
    if answer.top_p is None:
        answer.top_p = top_p
    return CallOptions(
        internal=internal,
        answer=answer,
        chat_template_kwargs=client.chat_template_kwargs,
        internal_extra={k: v for k, v in client.extra.items() if k in INTERNAL_EXTRAS},
        answer_extra=dict(client.extra),
        parallel_tool_calls=client.parallel_tool_calls,
    )
