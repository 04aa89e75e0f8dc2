"""Optional OpenTelemetry tracing (`otel` extra): one server span per HTTP request.

Off unless an OTLP endpoint is configured; then spans go to it over OTLP/HTTP and the
incoming W3C `traceparent` header becomes the parent. The swarm's GenAI spans
(swarm/telemetry.py) get their tracer from `swarm_trace` and the request's context from
`current_context`, passed to the run explicitly.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from starlette.types import Scope

from swarm.telemetry import TraceConfig

log = logging.getLogger("kimi_swarm.tracing")
TRACER_NAME = "kimi_swarm"
SWARM_TRACER = "kimi_swarm.swarm"
ENDPOINT_ENV = "OTEL_EXPORTER_OTLP_ENDPOINT"
CAPTURE_ENV = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"
# The provider used for HTTP spans; None means tracing is off (no opentelemetry import at all).
_provider: Any = None


class TracingUnavailable(RuntimeError):
    """An endpoint was configured but the `otel` extra is not installed."""


def endpoint_from(flag: str | None, environ: Mapping[str, str]) -> str | None:
    return flag or environ.get(ENDPOINT_ENV) or None


def start_tracing(flag: str | None, service_name: str) -> None:
    """Turn tracing on if `--otel-endpoint` or OTEL_EXPORTER_OTLP_ENDPOINT is set; else no-op."""
    endpoint = endpoint_from(flag, os.environ)
    if endpoint is None:
        return
    try:
        setup_tracing(endpoint, service_name)
    except TracingUnavailable as exc:
        sys.exit(f"kimi-swarm serve: error: {exc}")


def setup_tracing(endpoint: str, service_name: str = "kimi-swarm") -> Any:
    """Export spans to `endpoint` (OTLP/HTTP) and make that the global tracer provider."""
    try:
        from opentelemetry import trace
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError as exc:
        raise TracingUnavailable(
            "--otel-endpoint needs the otel extra: pip install 'kimi-swarm[otel]'"
        ) from exc
    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    url = endpoint.rstrip("/")
    if not url.endswith("/v1/traces"):
        url += "/v1/traces"
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=url)))
    trace.set_tracer_provider(provider)
    use_provider(provider)
    log.info("tracing to %s", url)
    return provider


def use_provider(provider: Any) -> None:
    """Turn HTTP spans on with `provider` (tests pass one with an in-memory exporter)."""
    global _provider
    _provider = provider


def shutdown_tracing() -> None:
    """Flush and stop the exporter (called once the server has stopped)."""
    global _provider
    if _provider is not None and hasattr(_provider, "shutdown"):
        _provider.shutdown()
    _provider = None


def swarm_trace(provider: str, capture_flag: bool, environ: Mapping[str, str]) -> TraceConfig:
    """The swarm's span settings: off (no tracer) unless tracing is on."""
    if _provider is None:
        return TraceConfig()
    capture = capture_flag or environ.get(CAPTURE_ENV, "").lower() in ("1", "true", "yes", "on")
    return TraceConfig(tracer(SWARM_TRACER), provider, capture)


def current_context() -> Any:
    """The request's trace context (its span), handed to the swarm explicitly; None if off."""
    if _provider is None:
        return None
    from opentelemetry import context

    return context.get_current()


def tracer(name: str = TRACER_NAME) -> Any:
    """A tracer for extra spans; a no-op tracer when tracing is off."""
    from opentelemetry import trace

    return trace.get_tracer(name, tracer_provider=_provider)


@contextmanager
def http_span(scope: Scope, request_id: str) -> Iterator[Any]:
    """A SERVER span around one request, child of the caller's `traceparent`; None if off."""
    if _provider is None:
        yield None
        return
    from opentelemetry import propagate, trace

    carrier = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers", [])}
    parent = propagate.extract(carrier)
    name = f"{scope['method']} {scope['path']}"
    with trace.get_tracer(TRACER_NAME, tracer_provider=_provider).start_as_current_span(
        name,
        context=parent,
        kind=trace.SpanKind.SERVER,
        attributes={
            "http.request.method": scope["method"],
            "url.path": scope["path"],
            "kimi_swarm.request_id": request_id,
        },
    ) as span:
        yield span


def end_http_span(span: Any, status: int, run_id: str | None) -> None:
    """Record the response status (and the swarm run id) on the request span."""
    if span is None:
        return
    from opentelemetry.trace import Status, StatusCode

    span.set_attribute("http.response.status_code", status)
    if run_id:
        span.set_attribute("kimi_swarm.run_id", run_id)
    if status >= 500:
        span.set_status(Status(StatusCode.ERROR))
