"""An upstream OpenAI-compatible server (vLLM, SGLang, a hosted API) behind the engine interface."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from server.engines.vllm_convert import (
    deltas_from_response,
    events_from_sse_line,
    to_openai_body,
)
from swarm.engine import ChatRequest, EngineEvent, ModelInfo
from swarm.errors import EngineRejected, EngineUnavailable

log = logging.getLogger("kimi_swarm.upstream")
RETRY_STATUSES = frozenset({429, 502, 503, 504})


class UpstreamEngine:
    def __init__(
        self,
        client: httpx.AsyncClient,
        info: ModelInfo,
        upstream_model: str,
        *,
        max_retries: int = 4,
        backoff_s: float = 0.5,
        max_backoff_s: float = 20.0,
    ) -> None:
        self._client = client
        self._info = info
        self._model = upstream_model
        self.max_retries = max_retries
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s

    @property
    def info(self) -> ModelInfo:
        return self._info

    @classmethod
    @asynccontextmanager
    async def start(
        cls,
        base_url: str,
        *,
        api_key: str | None = None,
        model: str | None = None,
        served_name: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> AsyncIterator[UpstreamEngine]:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        timeout = httpx.Timeout(connect=10.0, read=600.0, write=60.0, pool=60.0)
        async with httpx.AsyncClient(
            base_url=base_url.rstrip("/") + "/",
            headers=headers,
            timeout=timeout,
            transport=transport,
        ) as client:
            engine = cls(client, ModelInfo(name=served_name or model or "upstream"), model or "")
            if not model:
                engine._model = await engine._first_model()
                engine._info = ModelInfo(name=served_name or engine._model)
            yield engine

    async def _first_model(self) -> str:
        resp = await self._send("GET", "models", None)
        try:
            return str(resp.json()["data"][0]["id"])
        except (ValueError, KeyError, IndexError) as exc:
            raise EngineUnavailable("upstream /models listed no model") from exc

    async def healthy(self) -> bool:
        try:
            resp = await self._client.get("models")
        except httpx.HTTPError:
            return False
        return resp.status_code == 200

    def stream(self, request: ChatRequest) -> AsyncGenerator[EngineEvent, None]:
        return self._stream(request)

    async def _stream(self, request: ChatRequest) -> AsyncGenerator[EngineEvent, None]:
        body = to_openai_body(request, self._model)
        body.pop("request_id", None)
        if not request.stream:
            resp = await self._send("POST", "chat/completions", body)
            try:
                reply = resp.json()
            except ValueError as exc:
                raise EngineUnavailable("upstream answered a body that is not JSON") from exc
            for event in deltas_from_response(reply):
                yield event
            return
        ended = False
        async with self._open_stream(body) as resp:
            try:
                async for line in resp.aiter_lines():
                    ended = ended or line.strip() == "data: [DONE]"
                    for event in events_from_sse_line(line):
                        ended = ended or bool(getattr(event, "finish_reason", None))
                        yield event
            except httpx.TransportError as exc:  # read timeout, connection reset mid-stream
                raise EngineUnavailable(f"upstream stream broke: {_describe(exc)}") from exc
        if not ended:
            raise EngineUnavailable("upstream stream ended before its finish reason")

    @asynccontextmanager
    async def _open_stream(self, body: dict[str, Any]) -> AsyncIterator[httpx.Response]:
        for attempt in range(self.max_retries + 1):
            req = self._client.build_request("POST", "chat/completions", json=body)
            try:
                resp = await self._client.send(req, stream=True)
            except httpx.TransportError as exc:
                if attempt == self.max_retries:
                    raise EngineUnavailable(f"upstream unreachable: {_describe(exc)}") from exc
                await asyncio.sleep(self._delay(attempt, None))
                continue
            if resp.status_code in RETRY_STATUSES and attempt < self.max_retries:
                await resp.aclose()
                await asyncio.sleep(self._delay(attempt, resp))
                continue
            try:
                if resp.status_code >= 400:
                    await resp.aread()
                    raise _http_error(resp)
                yield resp
            finally:
                await resp.aclose()
            return

    async def _send(self, method: str, path: str, body: dict[str, Any] | None) -> httpx.Response:
        for attempt in range(self.max_retries + 1):
            try:
                resp = await self._client.request(method, path, json=body)
            except httpx.TransportError as exc:
                if attempt == self.max_retries:
                    raise EngineUnavailable(f"upstream unreachable: {_describe(exc)}") from exc
                await asyncio.sleep(self._delay(attempt, None))
                continue
            if resp.status_code in RETRY_STATUSES and attempt < self.max_retries:
                await asyncio.sleep(self._delay(attempt, resp))
                continue
            if resp.status_code >= 400:
                raise _http_error(resp)
            return resp
        raise EngineUnavailable("upstream retries exhausted")  # pragma: no cover - loop returns

    def _delay(self, attempt: int, resp: httpx.Response | None) -> float:
        """Retry-After when the upstream gives one, else capped exponential back-off with jitter."""
        if resp is not None:
            after = resp.headers.get("retry-after")
            if after is not None:
                try:
                    return min(max(float(after), 0.0), self.max_backoff_s)
                except ValueError:
                    pass
        base = min(self.backoff_s * (2**attempt), self.max_backoff_s)
        return base * (0.5 + random.random() / 2)

    async def close(self) -> None:
        await self._client.aclose()


def _describe(exc: httpx.HTTPError) -> str:
    return f"{type(exc).__name__}: {exc}".rstrip(": ")


def _http_error(resp: httpx.Response) -> Exception:
    try:
        err = resp.json().get("error") or {}
    except ValueError:
        err = {}
    message = err.get("message") if isinstance(err, dict) else None
    message = message or f"upstream answered HTTP {resp.status_code}"
    if resp.status_code >= 500 or resp.status_code == 429:
        return EngineUnavailable(message)
    param = err.get("param") if isinstance(err, dict) else None
    status = (
        404 if resp.status_code == 404 else (resp.status_code if resp.status_code < 500 else 400)
    )
    return EngineRejected(message, param=param, status=status)
