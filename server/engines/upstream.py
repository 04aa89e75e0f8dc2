"""Upstream OpenAI-compatible servers (vLLM, SGLang, a hosted API) behind the engine interface.

One or more replicas of the same model form a pool: health-checked, least outstanding
requests, a failed call (no connection, 5xx, 429, before any byte streamed) retried on
another replica, and run affinity (server/engines/routing.py). With one replica this is a
plain client that retries with back-off and honours `Retry-After`.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import httpx

from server.engines.openai_api import Endpoint, RawResult
from server.engines.replica import Replica, replica_name
from server.engines.routing import Affinity, Router
from server.engines.vllm_convert import (
    deltas_from_response,
    events_from_sse_line,
    json_from_sse_line,
    to_openai_body,
)
from swarm.engine import ChatRequest, EngineEvent, Json, ModelInfo
from swarm.errors import EngineRejected, EngineUnavailable

log = logging.getLogger("kimi_swarm.upstream")
TIMEOUT = httpx.Timeout(connect=10.0, read=600.0, write=60.0, pool=60.0)


def retryable(status: int) -> bool:
    """Overload and server errors; 501 (not implemented) would fail the same everywhere."""
    return status == 429 or (status >= 500 and status != 501)


class UpstreamEngine:
    def __init__(
        self,
        replicas: Sequence[Replica],
        info: ModelInfo,
        upstream_model: str,
        *,
        max_retries: int = 4,
        backoff_s: float = 0.5,
        max_backoff_s: float = 20.0,
        affinity: Affinity | None = None,
    ) -> None:
        if not replicas:
            raise ValueError("an upstream engine needs at least one replica")
        self.replicas = list(replicas)
        self.router: Router[Replica] = Router(affinity)
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
        base_urls: str | Sequence[str],
        *,
        api_key: str | None = None,
        model: str | None = None,
        served_name: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        health_interval_s: float = 5.0,
        health_path: str = "models",
        affinity: Affinity | None = None,
    ) -> AsyncIterator[UpstreamEngine]:
        """Open a client per replica, probe them, then re-probe every `health_interval_s`."""
        urls = list(dict.fromkeys([base_urls] if isinstance(base_urls, str) else base_urls))
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        async with AsyncExitStack() as stack:
            replicas = []
            for url in urls:
                client = httpx.AsyncClient(
                    base_url=url.rstrip("/") + "/",
                    headers=headers,
                    timeout=TIMEOUT,
                    transport=transport,
                )
                await stack.enter_async_context(client)
                replicas.append(Replica(client, replica_name(url), health_path))
            info = ModelInfo(name=served_name or model or "upstream")
            engine = cls(replicas, info, model or "", affinity=affinity)
            await engine.check_health()
            if not model:
                engine._model = await engine._first_model()
                engine._info = ModelInfo(name=served_name or engine._model)
            async with asyncio.TaskGroup() as tg:
                watcher = tg.create_task(engine._watch(health_interval_s))
                try:
                    yield engine
                finally:
                    watcher.cancel()

    async def check_health(self) -> None:
        """Probe every replica once, concurrently."""
        async with asyncio.TaskGroup() as tg:
            for replica in self.replicas:
                tg.create_task(replica.probe())

    async def _watch(self, interval_s: float) -> None:
        while True:
            await asyncio.sleep(interval_s)
            await self.check_health()

    async def healthy(self) -> bool:
        """At least one replica in rotation (as of the last probe or call)."""
        return any(r.healthy for r in self.replicas)

    async def _first_model(self) -> str:
        async with self._open("GET", "models", None) as resp:
            await resp.aread()
            try:
                return str(resp.json()["data"][0]["id"])
            except (ValueError, KeyError, IndexError) as exc:
                raise EngineUnavailable("upstream /models listed no model") from exc

    def stream(self, request: ChatRequest) -> AsyncGenerator[EngineEvent, None]:
        return self._stream(request)

    async def _stream(self, request: ChatRequest) -> AsyncGenerator[EngineEvent, None]:
        body = to_openai_body(request, self._model)
        body.pop("request_id", None)
        # vLLM adopts X-Request-Id as its own request id: logs line up across both servers.
        headers = {"X-Request-Id": request.request_id} if request.request_id else None
        ended = False
        async with self._open(
            "POST", "chat/completions", body, key=request.affinity_key, headers=headers
        ) as resp:
            if not request.stream:
                await resp.aread()
                try:
                    reply = resp.json()
                except ValueError as exc:
                    raise EngineUnavailable("upstream answered a body that is not JSON") from exc
                for event in deltas_from_response(reply):
                    yield event
                return
            async for line in resp.aiter_lines():
                ended = ended or line.strip() == "data: [DONE]"
                for event in events_from_sse_line(line):
                    ended = ended or bool(getattr(event, "finish_reason", None))
                    yield event
        if not ended:
            raise EngineUnavailable("upstream stream ended before its finish reason")

    @asynccontextmanager
    async def _open(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None,
        *,
        key: str = "",
        headers: dict[str, str] | None = None,
    ) -> AsyncIterator[httpx.Response]:
        """A response with a non-retryable status, from the first replica that gives one."""
        tried: set[Replica] = set()
        for attempt in range(self.max_retries + 1):
            last = attempt == self.max_retries
            choice = self.router.choose(self.replicas, key, tried)
            replica = choice.replica
            if choice.spilled and (home := self.router.home_of(key)) is not None:
                home.spilled_from()
            with replica.busy():
                url = _target(replica.client, path)
                request = replica.client.build_request(method, url, json=body, headers=headers)
                resp: httpx.Response | None
                try:
                    resp = await replica.client.send(request, stream=True)
                except httpx.TransportError as exc:
                    replica.failed("transport")
                    if last:
                        raise EngineUnavailable(f"upstream unreachable: {_describe(exc)}") from exc
                    resp = None
                if resp is not None and not (retryable(resp.status_code) and not last):
                    async with _closing(replica, resp):
                        if resp.status_code >= 400:
                            if retryable(resp.status_code):
                                replica.failed("status")
                            await resp.aread()
                            raise _http_error(resp)
                        yield resp
                    return
                if resp is not None:
                    replica.failed("status")
                    await resp.aclose()
            await self._before_retry(attempt, resp, tried, replica)
        raise EngineUnavailable("upstream retries exhausted")  # pragma: no cover - loop returns

    async def _before_retry(
        self, attempt: int, resp: httpx.Response | None, tried: set[Replica], failed: Replica
    ) -> None:
        """Fail over at once while a healthy replica is untried; else back off, then start over."""
        tried.add(failed)
        if any(r.healthy and r not in tried for r in self.replicas):
            log.info("upstream %s failed; retrying on another replica", failed.name)
            return
        tried.clear()
        await asyncio.sleep(self._delay(attempt, resp))

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

    async def call_openai(self, endpoint: Endpoint, body: Json) -> RawResult:
        """Pass a raw request through (same pool and retries); the upstream's model name is used."""
        body = {**body, "model": self._model} if "model" in body else dict(body)
        # /tokenize and /detokenize sit at the server root, next to (not under) /v1.
        path = endpoint if endpoint in ("completions", "responses") else "/" + endpoint
        if body.get("stream"):
            return self._raw_events(path, body)
        async with self._open("POST", path, body) as resp:
            await resp.aread()
            try:
                return dict(resp.json())
            except ValueError as exc:
                raise EngineUnavailable("upstream answered a body that is not JSON") from exc

    async def _raw_events(self, path: str, body: Json) -> AsyncGenerator[Json, None]:
        async with self._open("POST", path, body) as resp:
            async for line in resp.aiter_lines():
                if (event := json_from_sse_line(line)) is not None:
                    yield event

    async def close(self) -> None:
        for replica in self.replicas:
            await replica.client.aclose()


@asynccontextmanager
async def _closing(replica: Replica, resp: httpx.Response) -> AsyncIterator[None]:
    """Closes the response; a stream that breaks mid-way is an unavailable engine."""
    try:
        yield
    except httpx.TransportError as exc:
        replica.failed("transport")
        raise EngineUnavailable(f"upstream stream broke: {_describe(exc)}") from exc
    finally:
        await resp.aclose()


def _target(client: httpx.AsyncClient, path: str) -> str | httpx.URL:
    """`path` under the client's base URL; a leading "/" means the server root (base minus /v1)."""
    if not path.startswith("/"):
        return path
    base = str(client.base_url).rstrip("/").removesuffix("/v1")
    return httpx.URL(base + path)


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
