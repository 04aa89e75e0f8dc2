"""OpenAI-shaped errors, and the one place that maps exceptions to HTTP statuses."""

from __future__ import annotations

import json
import logging
from typing import Any

from swarm.errors import (
    EngineRejected,
    EngineUnavailable,
    InvalidRequest,
    Overloaded,
    RunNotFound,
    RunTimedOut,
    SwarmError,
)

log = logging.getLogger("kimi_swarm.errors")


class ApiError(Exception):
    """An error the client should see as-is: status plus an OpenAI error body."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.param = param
        self.code = code
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        err = {"message": self.message, "type": self.type, "param": self.param, "code": self.code}
        return {"error": err}

    def json_bytes(self) -> bytes:
        return json.dumps(self.body()).encode()


def to_api_error(exc: BaseException) -> ApiError:
    """Translate any exception into the error the client sees; never leaks a traceback."""
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, EngineRejected):
        code = exc.code or ("context_length_exceeded" if "context length" in exc.message else None)
        return ApiError(exc.status, exc.message, param=exc.param, code=code)
    if isinstance(exc, RunNotFound):
        return ApiError(404, exc.message, param=exc.param, code="not_found")
    if isinstance(exc, InvalidRequest):
        return ApiError(400, exc.message, param=exc.param, code=getattr(exc, "code", None))
    if isinstance(exc, EngineUnavailable):
        return ApiError(
            503,
            f"model backend unavailable: {exc}",
            type="server_error",
            code="engine_unavailable",
            headers={"Retry-After": "1"},
        )
    if isinstance(exc, Overloaded):
        return ApiError(
            429,
            exc.message,
            type="rate_limit_error",
            code="rate_limit_exceeded",
            headers={"Retry-After": str(exc.retry_after_s)},
        )
    if isinstance(exc, RunTimedOut):
        return ApiError(504, str(exc), type="server_error", code="run_timeout")
    if isinstance(exc, SwarmError):
        return ApiError(500, str(exc), type="server_error")
    log.exception("unhandled error", exc_info=exc)
    return ApiError(500, "internal server error", type="server_error")
