"""The README's swarm example on the embedded SmolLM2-135M: wall time and time to first answer token.

One `kimi-swarm serve` with no --model (the embedded default), on 127.0.0.1. Measured:
- the README example as written (non-streamed), RUNS times: wall time each;
- the same request streamed with `include_swarm_events`: time from the end of the last
  stage (the `task.completed` event of the last task received) to the first answer token
  (the orchestrator's closing decision plus the answer turn's first step), from the start of
  the answer turn (the orchestrator's last `agent.step` before the answer) to the first answer
  token, and from the request to the first answer token;
- the anchor: the same question as plain chat (`smollm2`, streamed, `max_tokens` 256 like the
  swarm's small-model answer turn: unbounded, the 135M model can write to the context end),
  in the same run.
Each answer is checked for protocol text (`<tool_call>`, `<tool_response>`, `error:`).
Last line: JSON with the figures and ratio = swarm wall time / plain chat wall time.
"""

from __future__ import annotations

import json
import os
import re
import statistics
import sys
import time
from pathlib import Path

import openai

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.servers import start_server

RUNS = int(os.environ.get("BENCH_RUNS", "3"))
QUESTION = [{"role": "user", "content": "Compare the populations of France and Spain."}]
README_SWARM = {"max_subagents": 8, "max_concurrent": 4, "timeout_s": 120}
ANCHOR_MAX_TOKENS = 256
PROTOCOL = re.compile(r"<tool_call>|</?tool_response>|\berror:|create_subagent|assign_task")


def _readme_example(client: openai.OpenAI) -> tuple[float, str, dict[str, object]]:
    t0 = time.perf_counter()
    r = client.chat.completions.create(
        model="smollm2-swarm", messages=QUESTION, extra_body={"swarm": README_SWARM}
    )
    wall = time.perf_counter() - t0
    return wall, r.choices[0].message.content or "", (r.model_extra or {})["swarm"]


def _streamed(client: openai.OpenAI, model: str, extra: dict[str, object]) -> dict[str, float]:
    t0 = time.perf_counter()
    stream = client.chat.completions.create(
        model=model, messages=QUESTION, stream=True, extra_body=extra
    )  # max_tokens in extra_body reaches the body like the keyword argument
    last_stage = last_decision = first_token = None
    for chunk in stream:
        swarm = (chunk.model_extra or {}).get("swarm") or {}
        if swarm.get("type") == "task.completed":
            last_stage = time.perf_counter()
        decision = swarm.get("type") == "agent.step" and swarm.get("agent") == "orchestrator"
        if decision and first_token is None:
            last_decision = time.perf_counter()
        if first_token is None and chunk.choices and chunk.choices[0].delta.content:
            first_token = time.perf_counter()
    end = time.perf_counter()
    assert first_token is not None, "no answer token"
    out = {"wall_s": end - t0, "first_token_s": first_token - t0}
    if last_stage is not None:
        out["after_last_stage_s"] = first_token - last_stage
    if last_decision is not None:
        out["after_answer_turn_start_s"] = first_token - last_decision
    return out


def main() -> None:
    # No fetch_url: the 135M model's sub-agents would look up made-up hosts (no traffic, not even
    # DNS, leaves 127.0.0.1).
    server = start_server(
        ["--max-num-seqs", "16", "--disable-uvicorn-access-log", "--disable-tool", "fetch_url"]
    )
    try:
        client = openai.OpenAI(base_url=server.base_url, api_key="unused", max_retries=0)
        plain = {"max_tokens": ANCHOR_MAX_TOKENS}
        _streamed(client, "smollm2", plain)  # warm-up
        anchor = statistics.median(
            _streamed(client, "smollm2", plain)["wall_s"] for _ in range(RUNS)
        )
        walls, leaks, records = [], 0, []
        for i in range(RUNS):
            wall, answer, swarm = _readme_example(client)
            walls.append(wall)
            leaks += bool(PROTOCOL.search(answer))
            records.append(swarm)
            print(f"run {i}: {wall:.1f} s, {swarm['status']}, answer: {answer!r}", flush=True)
        events = {"swarm": README_SWARM, "stream_options": {"include_swarm_events": True}}
        streamed = [_streamed(client, "smollm2-swarm", events) for _ in range(RUNS)]
    finally:
        server.stop()
    after = [s["after_last_stage_s"] for s in streamed if "after_last_stage_s" in s]
    turn = [s["after_answer_turn_start_s"] for s in streamed if "after_answer_turn_start_s" in s]
    result = {
        "runs": RUNS,
        "swarm_wall_s_median": round(statistics.median(walls), 2),
        "swarm_wall_s_max": round(max(walls), 2),
        "first_answer_token_s_median": round(
            statistics.median(s["first_token_s"] for s in streamed), 2
        ),
        "first_token_after_last_stage_s_median": round(statistics.median(after), 3)
        if after
        else None,
        "first_token_after_answer_turn_start_s_median": round(statistics.median(turn), 3)
        if turn
        else None,
        "streamed_wall_s_median": round(statistics.median(s["wall_s"] for s in streamed), 2),
        "statuses": [r["status"] for r in records],
        "critical_steps": [r["critical_steps"] for r in records],
        "answers_with_protocol_text": leaks,
        "anchor_plain_chat_wall_s": round(anchor, 2),
        "ratio": round(statistics.median(walls) / anchor, 2),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
