"""Plain-text chat straight on the engine: no OpenAI SSE text in between.

`OpenAIServingChat` turns every engine output into an SSE line (a pydantic chunk dumped
to JSON) that the in-process engine would parse straight back into a `Delta`. A request
that needs none of its parsers (no tools, no structured output, no logprobs, one choice,
no reasoning parser on the server) skips that round trip: vLLM still validates the request,
renders the chat template and tokenizes (`render_chat_request`), and derives the sampling
parameters (`to_sampling_params`), then `AsyncLLM.generate` runs it and its outputs become
events here. Everything else goes through `OpenAIServingChat` unchanged.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

from server.engines.vllm_convert import error_from
from swarm.engine import ChatRequest, Delta, EngineEvent, Usage
from swarm.errors import EngineError, EngineRejected, EngineUnavailable

# vLLM request extras that only change sampling, never the output format.
SAMPLING_EXTRAS = frozenset({
    "top_k", "min_p", "repetition_penalty", "ignore_eos", "min_tokens", "stop_token_ids",
    "skip_special_tokens", "spaces_between_special_tokens", "include_stop_str_in_output",
    "length_penalty",
})  # fmt: skip


def eligible(request: ChatRequest) -> bool:
    """True when the request's output is plain text: nothing for vLLM's parsers to do."""
    s = request.sampling
    return (
        not request.tools
        and s.n == 1
        and not s.logprobs
        and s.response_format is None
        and request.extra.keys() <= SAMPLING_EXTRAS
    )


class Direct:
    """A started request: vLLM's `RequestOutput`s as engine events; `aclose` stops it."""

    def __init__(self, outputs: AsyncGenerator[Any, None]) -> None:
        self._outputs = outputs

    async def events(self) -> AsyncGenerator[EngineEvent, None]:
        """Deltas as they come (or one whole message when not streamed), then the usage."""
        prompt_tokens = completion_tokens = 0
        try:
            async for res in self._outputs:
                if res.prompt_token_ids:
                    prompt_tokens = len(res.prompt_token_ids)
                (out,) = res.outputs
                completion_tokens += len(out.token_ids)  # per delta, or all of them at once
                if out.text or out.finish_reason is not None:
                    yield Delta(content=out.text or None, finish_reason=out.finish_reason)
        except (ValueError, TypeError) as exc:  # the request, as the engine checked it
            raise EngineRejected(str(exc)) from exc
        except EngineError:
            raise
        except Exception as exc:  # the engine itself (dead, overloaded): a 5xx
            raise EngineUnavailable(f"{type(exc).__name__}: {exc}") from exc
        yield Usage(prompt_tokens, completion_tokens)

    async def aclose(self) -> None:
        await self._outputs.aclose()


async def start(client: Any, chat: Any, vreq: Any, request_id: str) -> Direct:
    """Render `vreq` (vLLM's `ChatCompletionRequest`) as vLLM's chat server does; submit it."""
    from vllm.entrypoints.serve.engine.protocol import ErrorResponse
    from vllm.entrypoints.serve.utils.api_utils import get_max_tokens

    rendered = await chat.render_chat_request(vreq)
    if isinstance(rendered, ErrorResponse):
        raise error_from(rendered.error.model_dump())
    _, inputs = rendered
    (engine_input,) = inputs
    requested = vreq.max_completion_tokens
    max_tokens = get_max_tokens(
        chat.model_config.max_model_len,
        requested if requested is not None else vreq.max_tokens,
        chat._extract_prompt_len(engine_input),
        chat.default_sampling_params,
        chat.override_max_tokens,
        truncate_prompt_tokens=vreq.truncate_prompt_tokens,
    )
    params = vreq.to_sampling_params(max_tokens, chat.default_sampling_params)
    chat._log_inputs(request_id, engine_input, params=params, lora_request=None)
    return Direct(client.generate(engine_input, params, request_id))
