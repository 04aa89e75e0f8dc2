"""SIGTERM on a real `kimi-swarm serve --upstream` process: drain streams, refuse new ones."""

from __future__ import annotations

import json
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.servers import ServerProcess, start_command, start_server

SLOW = Path(__file__).with_name("slow_upstream.py")
CHUNKS = 10
BODY = {"model": "slow-upstream", "stream": True, "messages": [{"role": "user", "content": "hi"}]}


@pytest.fixture(scope="module")
def upstream() -> Iterator[ServerProcess]:
    server = start_command(
        [sys.executable, str(SLOW), "--chunks", str(CHUNKS), "--delay", "0.3"], timeout_s=60
    )
    yield server
    server.stop()


def start_kimi(upstream: ServerProcess, deadline_s: float) -> ServerProcess:
    """Configured through env vars only (the container's way), JSON logs on."""
    env = {
        "KIMI_SWARM_UPSTREAM": upstream.base_url,
        "KIMI_SWARM_UPSTREAM_MODEL": "slow-upstream",
        "KIMI_SWARM_SHUTDOWN_TIMEOUT_S": str(deadline_s),
        "KIMI_SWARM_LOG_FORMAT": "json",
    }
    return start_server([], env=env, timeout_s=120)


def refuses_connections(server: ServerProcess) -> bool:
    """Poll until a new connection is refused (the listening socket is closed)."""
    for _ in range(50):
        try:
            httpx.get(f"{server.url}/health", timeout=1)
        except httpx.ConnectError:
            return True
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    return False


def stream_with_sigterm(server: ServerProcess) -> tuple[list[str], bool]:
    """Stream one completion, SIGTERM the server after the first content chunk."""
    lines: list[str] = []
    refused = False
    headers = {"x-request-id": "deploy-test-1"}
    with (
        httpx.Client(timeout=30) as client,
        client.stream(
            "POST", f"{server.base_url}/chat/completions", json=BODY, headers=headers
        ) as resp,
    ):
        assert resp.status_code == 200
        try:
            for line in resp.iter_lines():
                lines.append(line)
                if '"w0 "' in line:
                    server.proc.send_signal(signal.SIGTERM)
                    refused = refuses_connections(server)
        except httpx.HTTPError:
            pass  # the deadline cut the stream
    return lines, refused


def content(lines: list[str]) -> str:
    out = []
    for line in lines:
        if line.startswith("data: {"):
            for choice in json.loads(line[6:]).get("choices", []):
                out.append(choice.get("delta", {}).get("content") or "")
    return "".join(out)


def test_sigterm_drains_an_inflight_stream(upstream: ServerProcess) -> None:
    server = start_kimi(upstream, deadline_s=30)
    try:
        lines, refused = stream_with_sigterm(server)
        code = server.proc.wait(timeout=60)
    finally:
        server.stop()
    assert refused, "new connections were still accepted after SIGTERM"
    assert content(lines) == "".join(f"w{i} " for i in range(CHUNKS))
    assert lines[-1] == "data: [DONE]" or "data: [DONE]" in lines
    assert code == 0, server.log_tail()
    records = [json.loads(x) for x in server.log_path.read_text().splitlines() if x.startswith("{")]
    access = [r for r in records if r["logger"] == "kimi_swarm.access"]
    assert any(
        r["request_id"] == "deploy-test-1" and r["path"] == "/v1/chat/completions" for r in access
    )


def test_deadline_cuts_the_stream_and_still_exits(upstream: ServerProcess) -> None:
    server = start_kimi(upstream, deadline_s=0.5)
    try:
        lines, refused = stream_with_sigterm(server)
        code = server.proc.wait(timeout=60)
    finally:
        server.stop()
    assert refused
    assert "data: [DONE]" not in lines
    assert len(content(lines).split()) < CHUNKS
    assert code == 0, server.log_tail()
