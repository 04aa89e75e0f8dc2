"""A real `kimi-swarm serve` exports its swarm spans over OTLP/HTTP to a collector on 127.0.0.1."""

from __future__ import annotations

import gzip
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from tests.servers import ServerProcess, free_port, start_command, start_server

SLOW = Path(__file__).with_name("slow_upstream.py")
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_ID = "00f067aa0ba902b7"


class Collector(ThreadingHTTPServer):
    """Just enough of an OTLP/HTTP trace receiver: keeps every exported span."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", free_port()), _Handler)
        self.spans: list[Any] = []
        self.paths: list[str] = []


class _Handler(BaseHTTPRequestHandler):
    server: Collector

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        request = ExportTraceServiceRequest.FromString(body)
        self.server.paths.append(self.path)
        for resource in request.resource_spans:
            for scope in resource.scope_spans:
                self.server.spans.extend(scope.spans)
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def collector() -> Iterator[Collector]:
    server = Collector()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    thread.join()


@pytest.fixture
def upstream() -> Iterator[ServerProcess]:
    cmd = [sys.executable, str(SLOW), "--chunks", "2", "--delay", "0.01"]
    server = start_command(cmd, timeout_s=60)
    yield server
    server.stop()


def attrs(span: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for kv in span.attributes:
        value = kv.value
        out[kv.key] = getattr(value, value.WhichOneof("value"))
    return out


def test_swarm_spans_reach_an_otlp_collector(collector: Collector, upstream: ServerProcess) -> None:
    env = {
        "KIMI_SWARM_UPSTREAM": upstream.base_url,
        "KIMI_SWARM_UPSTREAM_MODEL": "slow-upstream",
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{collector.server_address[1]}",
    }
    server = start_server([], env=env, timeout_s=120)
    try:
        body = {
            "model": "slow-upstream-swarm",
            "messages": [{"role": "user", "content": "hi"}],
            "swarm": {"tool_mode": "auto"},
        }
        headers = {"traceparent": f"00-{TRACE_ID}-{PARENT_ID}-01"}
        resp = httpx.post(f"{server.base_url}/chat/completions", json=body, headers=headers)
        assert resp.status_code == 200, resp.text
        run_id = resp.headers["x-swarm-run-id"]
    finally:
        assert server.stop() == 0, server.log_tail()  # a clean stop flushes the exporter
    assert set(collector.paths) == {"/v1/traces"}
    by_name = {s.name: s for s in collector.spans}
    http = by_name["POST /v1/chat/completions"]
    run = by_name["invoke_agent orchestrator"]
    chat = by_name["chat slow-upstream"]
    assert {s.trace_id.hex() for s in (http, run, chat)} == {TRACE_ID}
    assert http.parent_span_id.hex() == PARENT_ID
    assert run.parent_span_id == http.span_id and chat.parent_span_id == run.span_id
    run_attrs, chat_attrs = attrs(run), attrs(chat)
    assert run_attrs["gen_ai.conversation.id"] == run_id
    assert run_attrs["gen_ai.provider.name"] == "openai"  # --upstream speaks the OpenAI API
    assert run_attrs["kimi_swarm.status"] == "completed"
    assert chat_attrs["gen_ai.operation.name"] == "chat"
    assert chat_attrs["gen_ai.request.model"] == "slow-upstream"
    assert "gen_ai.input.messages" not in chat_attrs  # content capture is opt-in
