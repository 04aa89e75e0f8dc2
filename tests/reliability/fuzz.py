"""Schema fuzzing with Hypothesis: bodies for /v1/chat/completions and calls on /v1/swarm/*.

Generated values are mostly near the schema (right keys, odd values) with arbitrary JSON
mixed in everywhere; each reply must be < 500 and, when an error, OpenAI-shaped (streams:
any in-band error too). Generation is derandomised, so a given `n` is the same every run.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.reliability.live import openai_shaped

SCALAR = (
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=12)
)
ANY = st.recursive(
    SCALAR,
    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=8), c, max_size=3),
    max_leaves=6,
)
URL = st.sampled_from(
    ["data:image/png;base64,AAAA", "data:image/png;base64,", "http://127.0.0.1:1/x.png",
     "file:///etc/passwd", "data:video/mp4;base64,AAAA", ""]
) | st.text(max_size=20)  # fmt: skip
PART = st.fixed_dictionaries(
    {"type": st.sampled_from(["text", "image_url", "video_url", "input_audio", "file"]) | ANY},
    optional={"text": st.text(max_size=20) | ANY, "image_url": st.fixed_dictionaries({"url": URL}) | ANY,
              "video_url": st.fixed_dictionaries({"url": URL}) | ANY},
)  # fmt: skip
MESSAGE = st.fixed_dictionaries(
    {"role": st.sampled_from(["system", "user", "assistant", "tool", "developer", "x"]) | ANY},
    optional={"content": st.text(max_size=30) | st.lists(PART, max_size=3) | ANY,
              "tool_calls": ANY, "tool_call_id": ANY, "name": ANY},
)  # fmt: skip
TOOL = st.fixed_dictionaries(
    {"type": st.just("function") | ANY,
     "function": st.fixed_dictionaries({"name": st.text(max_size=10) | ANY},
                                       optional={"parameters": ANY, "strict": ANY})},
)  # fmt: skip
SWARM = st.fixed_dictionaries(
    {},
    optional={"max_subagents": st.integers(-3, 1000) | ANY, "max_concurrent": ANY,
              "timeout_s": st.floats(-1, 5000) | ANY, "token_budget": ANY, "run_id": ANY,
              "tool_mode": st.sampled_from(["auto", "required", "x"]) | ANY, "enabled": ANY,
              "bogus": ANY},
)  # fmt: skip
CHAT = st.fixed_dictionaries(
    {"model": st.sampled_from(["fake", "fake-swarm", "nope"]) | ANY,
     "messages": st.lists(MESSAGE, max_size=3) | ANY},
    optional={"stream": st.booleans() | ANY,
              "stream_options": st.fixed_dictionaries(
                  {}, optional={"include_usage": ANY, "include_swarm_events": ANY}) | ANY,
              "max_tokens": st.integers(-5, 10**12) | ANY, "max_completion_tokens": ANY,
              "temperature": st.floats() | ANY, "top_p": ANY, "n": st.integers(-1, 300) | ANY,
              "tools": st.lists(TOOL, max_size=2) | ANY,
              "tool_choice": st.sampled_from(["auto", "none", "required"]) | ANY,
              "swarm": SWARM | ANY, "response_format": ANY, "stop": ANY, "seed": ANY,
              "logprobs": ANY, "top_logprobs": ANY, "chat_template_kwargs": ANY,
              "parallel_tool_calls": ANY, "top_k": ANY},
)  # fmt: skip
BODY = CHAT | ANY | st.binary(max_size=40)
RUNS_CALL = st.tuples(
    st.sampled_from(["list", "get", "events", "cancel"]),
    st.text(max_size=30),
    st.fixed_dictionaries({}, optional={"limit": ANY, "before": ANY, "after": ANY}),
    st.none()
    | st.text(st.characters(min_codepoint=33, max_codepoint=126), max_size=10)
    | st.integers(-5, 10**20).map(str),
)


def sample(strategy: st.SearchStrategy[Any], n: int) -> list[Any]:
    """`n` derandomised draws from `strategy` (Hypothesis runs generation only)."""
    drawn: list[Any] = []

    @settings(max_examples=n, database=None, derandomize=True, deadline=None,
              phases=[Phase.generate], suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(strategy)
    def collect(value: Any) -> None:
        drawn.append(value)

    collect()
    return drawn[:n]


@dataclass
class FuzzReport:
    requests: int = 0
    server_errors: int = 0  # 5xx
    not_openai_shaped: int = 0  # 4xx bodies or in-band stream errors of another shape
    examples: list[str] = field(default_factory=list)

    def bad(self, what: str) -> None:
        if len(self.examples) < 5:
            self.examples.append(what[:300])


async def fuzz_chat(client: httpx.AsyncClient, n: int, report: FuzzReport) -> list[str]:
    """Send `n` generated bodies; returns the run ids of swarm runs that were created."""
    runs: list[str] = []
    for body in sample(BODY, n):
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        resp = await client.post(
            "/v1/chat/completions", content=raw, headers={"content-type": "application/json"}
        )
        _check(report, resp, f"chat {raw[:200]!r}")
        if run_id := resp.headers.get("x-swarm-run-id"):
            runs.append(run_id)
    return runs


async def fuzz_runs(client: httpx.AsyncClient, n: int, real: list[str], report: FuzzReport) -> None:
    """Generated calls on the /v1/swarm/runs endpoints, against made-up and real run ids."""
    for i, (kind, run_id, params, last) in enumerate(sample(RUNS_CALL, n)):
        if real and i % 3 == 0:
            run_id = real[i % len(real)]
        path = "/v1/swarm/runs" + ("" if kind == "list" else "/" + quote(run_id, safe=""))
        path += {"list": "", "get": "", "events": "/events", "cancel": "/cancel"}[kind]
        query = {k: json.dumps(v) if not isinstance(v, str) else v for k, v in params.items()}
        headers = {"Last-Event-ID": last} if last is not None else {}
        method = "POST" if kind == "cancel" else "GET"
        resp = await client.request(method, path, params=query, headers=headers)
        _check(report, resp, f"{method} {path} {query} {headers}")


def _check(report: FuzzReport, resp: httpx.Response, what: str) -> None:
    report.requests += 1
    if resp.status_code >= 500:
        report.server_errors += 1
        report.bad(f"{resp.status_code} {what} -> {resp.text[:200]}")
        return
    if resp.status_code >= 400:
        try:
            shaped = openai_shaped(resp.json())
        except ValueError:
            shaped = False
        if not shaped:
            report.not_openai_shaped += 1
            report.bad(f"{resp.status_code} {what} -> {resp.text[:200]}")
        return
    if resp.headers.get("content-type", "").startswith("text/event-stream"):
        for line in resp.text.splitlines():
            is_error = line.startswith("data: {") and '"error"' in line[:12]
            if is_error and not openai_shaped(json.loads(line[6:])):
                report.not_openai_shaped += 1
                report.bad(f"stream error {what} -> {line[:200]}")


def rate(part: int, whole: int) -> float:
    return 0.0 if not whole else round(part / whole, 4) if math.isfinite(part / whole) else 0.0
