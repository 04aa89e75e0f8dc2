"""Prometheus metrics of the HTTP edge (the swarm registers its own in the same registry)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

REQUESTS = Counter("kimi_swarm_http_requests", "HTTP requests served", ["route", "status"])
LATENCY = Histogram(
    "kimi_swarm_http_request_seconds",
    "Time from request start to the end of the response body",
    ["route"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300),
)
IN_FLIGHT = Gauge("kimi_swarm_http_in_flight", "HTTP requests being served now")
ENGINE_RUNNING = Gauge(
    "kimi_swarm_engine_requests_running",
    "Requests the in-process vLLM engine holds for us, from submission until they finish "
    "or their abort has been sent",
)
TOKENS = Counter("kimi_swarm_tokens", "Tokens processed", ["kind"])
KNOWN_ROUTES = frozenset(
    {
        "/v1/chat/completions",
        "/v1/completions",
        "/v1/responses",
        "/v1/models",
        "/tokenize",
        "/detokenize",
        "/health",
        "/metrics",
        "/version",
    }
)


def route_label(path: str) -> str:
    """Bounded label set: known routes as-is, swarm routes grouped, the rest 'other'."""
    if path in KNOWN_ROUTES:
        return path
    if path.startswith("/v1/swarm/runs"):
        return "/v1/swarm/runs"
    if path.startswith("/v1/responses/"):
        return "/v1/responses/{id}"
    return "other"
