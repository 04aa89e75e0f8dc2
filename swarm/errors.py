"""The exception tree. The server maps each class to one HTTP status in one place.

Budgets that run out are not errors: the affected work ends with a status the run reports.

SwarmError
├── EngineError          model backend failures
│   ├── EngineRejected   the request is invalid for the model (client's fault, 4xx)
│   └── EngineUnavailable backend down or overloaded (infrastructure, 5xx/503)
├── ModelBehaviourError  the model produced something unusable (fed back to it as data)
├── ToolError            a tool failed (fed back to the model as data)
├── InvalidRequest       a request option is invalid (a 400 naming the param)
│   └── RunNotFound      no such run, or not the caller's (a 404)
├── Overloaded           the server is at capacity (a 429 with Retry-After)
└── RunTimedOut          a run outlived its wall-clock limit and answer grace (a 504)
"""

from __future__ import annotations


class SwarmError(Exception):
    """Base of every error this package raises on purpose."""


class EngineError(SwarmError):
    """Base of engine failures."""


class EngineRejected(EngineError):
    """The engine refused the request as invalid: the client's fault (a 4xx)."""

    def __init__(
        self,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
        status: int = 400,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        self.code = code
        self.status = status


class EngineUnavailable(EngineError):
    """The backend is down, overloaded or answered garbage (infrastructure)."""


class ModelBehaviourError(SwarmError):
    """The model produced output the swarm cannot act on."""


class ToolError(SwarmError):
    """A tool failed; its message is shown to the model."""


class InvalidRequest(SwarmError):
    """A request option is invalid (the client's fault: a 400 naming `param`)."""

    def __init__(self, message: str, *, param: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param


class RunNotFound(InvalidRequest):
    """No such run for this caller (missing, or owned by another API key): a 404."""


class Overloaded(SwarmError):
    """The server is at capacity; retry after `retry_after_s` (a 429)."""

    def __init__(self, message: str, *, retry_after_s: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after_s = retry_after_s


class RunTimedOut(SwarmError):
    """The run's wall-clock limit (plus the answer's grace period) ran out (a 504)."""
