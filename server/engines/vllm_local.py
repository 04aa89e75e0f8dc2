"""The in-process vLLM engine (`AsyncLLM`) behind the engine interface.

Requests go through vLLM's own `OpenAIServingChat`, so chat templates, tool parsers,
reasoning parsers and structured outputs are vLLM's, never re-implemented here.
"""

from __future__ import annotations

import logging
from argparse import Namespace
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from server import metrics
from server.engines import vllm_direct
from server.engines.openai_api import Endpoint, RawResult
from server.engines.vllm_convert import (
    deltas_from_response,
    error_from,
    events_from_sse_line,
    to_openai_body,
)
from server.engines.vllm_raw import VLLMRawEndpoints, rejections
from swarm.engine import ChatRequest, EngineEvent, Json, ModelInfo

log = logging.getLogger("kimi_swarm.engine")


class VLLMEngine:
    """One `AsyncLLM` plus vLLM's chat serving layer, used in-process."""

    def __init__(self, client: Any, state: Any, info: ModelInfo, *, direct: bool = False) -> None:
        self._client = client
        self._chat = state.openai_serving_chat
        self._raw = VLLMRawEndpoints(state, client.abort)
        self._info = info
        # Plain-text requests skip the SSE round trip (vllm_direct.py); not with a reasoning
        # parser or gpt-oss's harmony format, whose text vLLM's chat server rewrites.
        self._direct = direct

    @property
    def info(self) -> ModelInfo:
        return self._info

    @classmethod
    @asynccontextmanager
    async def start(cls, args: Namespace) -> AsyncIterator[VLLMEngine]:
        """Start the engine from vLLM CLI arguments; shut it down on exit."""
        from starlette.datastructures import State
        from vllm.entrypoints.launchers.api_server.app_state import init_app_state
        from vllm.entrypoints.launchers.api_server.entry import build_async_engine_client

        async with build_async_engine_client(args) as client:
            state = State()
            tasks = await client.get_supported_tasks()
            await init_app_state(client, state, args, tasks)
            mc = client.model_config
            info = ModelInfo(
                name=args.served_model_name[0] if args.served_model_name else args.model,
                max_model_len=mc.max_model_len,
                structured_outputs=True,
                multimodal=bool(mc.is_multimodal_model),
            )
            plain = not args.reasoning_parser and mc.hf_config.model_type != "gpt_oss"
            yield cls(client, state, info, direct=plain)

    async def healthy(self) -> bool:
        try:
            await self._client.check_health()
        except Exception:
            return False
        return not self._client.errored

    def stream(self, request: ChatRequest) -> AsyncGenerator[EngineEvent, None]:
        return self._stream(request)

    async def _stream(self, request: ChatRequest) -> AsyncGenerator[EngineEvent, None]:
        from vllm.entrypoints.openai.chat_completion.protocol import ChatCompletionResponse

        result = await self._submit(request)
        if isinstance(result, ChatCompletionResponse):
            for event in deltas_from_response(result):
                yield event
            return
        finished = False
        metrics.ENGINE_RUNNING.inc()
        try:
            if isinstance(result, vllm_direct.Direct):
                async for event in result.events():
                    yield event
            else:
                async for frame in result:
                    for event in events_from_sse_line(frame.strip()):
                        yield event
            finished = True
        finally:
            try:
                await result.aclose()
                if not finished:
                    # The consumer went away: free the sequence now, not at GC time.
                    await self._client.abort(f"chatcmpl-{request.request_id}")
            finally:
                metrics.ENGINE_RUNNING.dec()

    async def _submit(self, request: ChatRequest) -> Any:
        from vllm.entrypoints.openai.chat_completion.protocol import ChatCompletionRequest
        from vllm.entrypoints.serve.engine.protocol import ErrorResponse

        body = to_openai_body(request, self._info.name)
        with rejections():
            vreq = ChatCompletionRequest.model_validate(body)
            if self._direct and vllm_direct.eligible(request):
                rid = f"chatcmpl-{request.request_id}"
                result = await vllm_direct.start(self._client, self._chat, vreq, rid)
            else:
                result = await self._chat.create_chat_completion(vreq, None)
        if isinstance(result, ErrorResponse):
            raise error_from(result.error.model_dump())
        return result

    async def call_openai(self, endpoint: Endpoint, body: Json) -> RawResult:
        """Completions, responses, tokenize, detokenize: vLLM's own serving classes."""
        return await self._raw.call_openai(endpoint, body)

    async def close(self) -> None:
        """The engine's lifetime is owned by `start()`; nothing to do per instance."""
