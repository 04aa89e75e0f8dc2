"""Prometheus metrics of the swarm, on `prometheus_client`'s default registry."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

RUNS = Counter("swarm_runs", "Swarm runs by final status.", ["status"])
SUBAGENTS_SPAWNED = Counter("swarm_subagents_spawned", "Sub-agent tasks started.")
SUBAGENTS_FAILED = Counter("swarm_subagents_failed", "Sub-agent tasks that failed.")
SUBAGENTS_TIMED_OUT = Counter("swarm_subagents_timed_out", "Sub-agent tasks that timed out.")
QUEUE_DEPTH = Gauge("swarm_queue_depth", "Sub-agent tasks waiting for a concurrency slot.")
ACTIVE_SUBAGENTS = Gauge("swarm_active_subagents", "Sub-agent tasks running now.")
CRITICAL_STEPS = Histogram(
    "swarm_critical_steps",
    "CriticalSteps per finished run.",
    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512),
)
ENGINE_RETRIES = Counter("swarm_engine_retries", "Engine calls retried after a transient error.")
ENGINE_CALLS_WAITING = Gauge(
    "swarm_engine_calls_waiting", "Swarm engine calls waiting for a server-wide slot."
)
STORE_ERRORS = Counter("swarm_store_errors", "Run-store writes that failed (the run went on).")
RUNS_QUEUED = Gauge("swarm_runs_queued", "Swarm runs waiting for admission.")
RUNS_REJECTED = Counter("swarm_runs_rejected", "Swarm runs refused with 429 (queue full).")
