"""Logging: text or JSON lines, each carrying the request, run, agent and task of its context.

The ids live in contextvars: the request id set by the edge middleware, the run id, agent
and task set by the swarm (swarm/log_context.py) where a run and each of its sub-agent
tasks start. A value already on the record (`extra={"run_id": ...}`) wins.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from swarm import log_context

REQUEST_ID: ContextVar[str | None] = ContextVar("kimi_swarm_request_id", default=None)
RUN_ID = log_context.RUN_ID
# (record attribute, contextvar) in the order the text format shows them.
_IDS = (
    ("request_id", REQUEST_ID),
    ("run_id", RUN_ID),
    ("agent", log_context.AGENT),
    ("task", log_context.TASK),
)
ACCESS = logging.getLogger("kimi_swarm.access")
QUIET_PATHS = frozenset({"/health", "/metrics"})
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s%(ids)s"
# LogRecord attributes that are not user `extra=` fields.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "ids",
}


@contextmanager
def bound(var: ContextVar[str | None], value: str | None) -> Iterator[None]:
    """Set a contextvar for the duration of a block (tasks started inside inherit it)."""
    token = var.set(value)
    try:
        yield
    finally:
        var.reset(token)


def bind_run_id(run_id: str) -> None:
    """Tag every later log line of the current task (and tasks it starts) with `run_id`."""
    RUN_ID.set(run_id)


class ContextFilter(logging.Filter):
    """Copies request_id, run_id, agent and task from the contextvars onto each record."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, var in _IDS:
            if getattr(record, name, None) is None:
                setattr(record, name, var.get())
        ids = [f"{n}={getattr(record, n)}" for n, _ in _IDS if getattr(record, n)]
        record.ids = (" [" + " ".join(ids) + "]") if ids else ""
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, ids, then any `extra=` fields."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and value is not None:
                out[key] = value
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str)


def make_handler(log_format: str, stream: Any = None) -> logging.Handler:
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(ContextFilter())
    fmt: logging.Formatter = (
        JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)
    )
    handler.setFormatter(fmt)
    return handler


def setup_logging(log_format: str = "text", level: str = "info") -> logging.Handler:
    """Route the root logger, uvicorn's and vLLM's through one handler in the chosen format."""
    handler = make_handler(log_format)
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level.upper())
    # vLLM (in this process) and uvicorn install their own handlers; send them through ours.
    for name in ("vllm", "uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers = []
        logger.propagate = True
    return handler


def log_access(
    method: str, path: str, status: int, duration_s: float, run_id: str | None = None
) -> None:
    """The one access line per request (uvicorn's own access log is turned off)."""
    # Probes (Docker HEALTHCHECK, Prometheus scrapes) would drown the log at info level.
    level = logging.DEBUG if path in QUIET_PATHS else logging.INFO
    ACCESS.log(
        level,
        '"%s %s" %d %.1fms',
        method,
        path,
        status,
        duration_s * 1000,
        extra={
            "method": method,
            "path": path,
            "status": status,
            "duration_ms": round(duration_s * 1000, 1),
            "run_id": run_id,
        },
    )
