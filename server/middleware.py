"""Pure ASGI middleware (safe around streaming): request ids, API keys, body limit, metrics."""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server import logs, metrics, tracing
from server.errors import ApiError


class BodyTooLarge(Exception):
    pass


class EdgeMiddleware:
    """Everything every request passes through, in one pass and no BaseHTTPMiddleware."""

    def __init__(self, app: ASGIApp, *, api_keys: tuple[str, ...], max_body_bytes: int) -> None:
        self.app = app
        self.api_keys = tuple(k.encode() for k in api_keys)
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _header(scope, b"x-request-id") or uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        route = metrics.route_label(route_path(scope))
        status = {"code": 500}
        run: dict[str, str] = {}

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                message = {**message, "headers": headers}
                run_id = dict(headers).get(b"x-swarm-run-id")
                if run_id:
                    run["id"] = run_id.decode("latin-1")
            await send(message)

        start = time.perf_counter()
        metrics.IN_FLIGHT.inc()
        # Log lines and spans opened below (tasks included) carry this request's id / trace.
        with logs.bound(logs.REQUEST_ID, request_id), tracing.http_span(scope, request_id) as span:
            try:
                error = self._reject(scope)
                if error is not None:
                    await _send_error(send_with_id, error)
                else:
                    await self.app(scope, self._limited(receive), send_with_id)
            finally:
                elapsed = time.perf_counter() - start
                metrics.IN_FLIGHT.dec()
                metrics.LATENCY.labels(route).observe(elapsed)
                metrics.REQUESTS.labels(route, str(status["code"])).inc()
                tracing.end_http_span(span, status["code"], run.get("id"))
                logs.log_access(
                    scope["method"], scope["path"], status["code"], elapsed, run.get("id")
                )

    def _reject(self, scope: Scope) -> ApiError | None:
        if self.api_keys and _protected(route_path(scope)):
            key = self._authorized(scope)
            if key is not None:
                # Runs belong to the key that created them; only its fingerprint is kept.
                scope["state"]["owner"] = owner_of(key)
                return self._check_length(scope)
            return ApiError(
                401,
                "Incorrect or missing API key. Send it as 'Authorization: Bearer <key>'.",
                code="invalid_api_key",
                headers={"WWW-Authenticate": "Bearer"},
            )
        return self._check_length(scope)

    def _check_length(self, scope: Scope) -> ApiError | None:
        length = _header(scope, b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_body_bytes:
            return _too_large(self.max_body_bytes)
        return None

    def _authorized(self, scope: Scope) -> bytes | None:
        """The configured key the request carries, or None."""
        auth = (_header(scope, b"authorization") or "").encode()
        if not auth.lower().startswith(b"bearer "):
            return None
        given = auth[7:].strip()
        matches = [key for key in self.api_keys if hmac.compare_digest(given, key)]
        return matches[0] if matches else None

    def _limited(self, receive: Receive) -> Receive:
        seen = 0

        async def wrapped() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body_bytes:
                    raise _too_large(self.max_body_bytes)
            return message

        return wrapped


def route_path(scope: Scope) -> str:
    """The path the routes see: without --root-path's prefix (uvicorn includes it)."""
    path, root = str(scope["path"]), str(scope.get("root_path") or "")
    if root and (path == root or path.startswith(root + "/")):
        return path[len(root) :] or "/"
    return path


def owner_of(key: bytes) -> str:
    """A key's fingerprint (what run records keep; never the key itself)."""
    return "key-" + hashlib.sha256(b"kimi-swarm run owner\0" + key).hexdigest()[:32]


def _too_large(limit: int) -> ApiError:
    return ApiError(
        413,
        f"Request body exceeds the server limit of {limit // (1024 * 1024)} MiB "
        "(operators raise it with --max-request-mb).",
        code="request_too_large",
    )


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin-1"))
    return None


async def _send_error(send: Any, error: ApiError) -> None:
    body = error.json_bytes()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    headers += [(k.lower().encode(), v.encode()) for k, v in error.headers.items()]
    await send({"type": "http.response.start", "status": error.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _protected(path: str) -> bool:
    """Paths that need an API key when keys are set: the OpenAI API and the tokenizer."""
    return path.startswith("/v1/") or path in ("/tokenize", "/detokenize")
