"""A sub-agent (scripted fake engine) searches a local corpus and fetches from 127.0.0.1;
the orchestrator receives only its final answer, built from the real tool results."""

from __future__ import annotations

from pathlib import Path

from net import AllowList, Policy
from swarm.engine import ChatRequest, ModelInfo
from swarm.limits import SwarmLimits
from swarm.service import SwarmService
from swarm.store import open_store
from tests.fakes.scripted_engine import ScriptedEngine, Step, call, say
from tests.tools.conftest import ARTICLE, LocalServer, Route
from tools.base import ToolRegistry
from tools.fetch_url import FetchUrlTool
from tools.search.local import LocalDocsIndex
from tools.web_search import WebSearchTool

RESEARCHER = {
    "name": "researcher",
    "system_prompt": "Search, then read the page.",
    "tools": ["web_search", "fetch_url"],
}


def tool_texts(request: ChatRequest) -> list[str]:
    return [str(m["content"]) for m in request.messages if m["role"] == "tool"]


async def test_sub_agent_searches_and_fetches(corpus: Path, http_server: LocalServer) -> None:
    http_server.routes["/otters"] = Route(body=ARTICLE.encode(), content_type="text/html")
    page = http_server.url("/otters")

    def researcher(request: ChatRequest, turn: int) -> Step:
        if turn == 0:
            return call(
                "web_search", {"query": "what do sea otters use rocks for", "max_results": 2}
            )
        if turn == 1:
            return call("fetch_url", {"url": page, "max_chars": 2000})
        found, fetched = tool_texts(request)
        top = found.splitlines()[1]  # "1. <title>"
        fact = next(ln for ln in fetched.splitlines() if "rocks as tools" in ln)
        return say(f"Top hit: {top}. Page says: {fact}")

    orchestrator = [
        call("create_subagent", RESEARCHER),
        call("assign_task", {"agent": "researcher", "task": "How do sea otters eat shellfish?"}),
        say("They use rocks."),
    ]
    engine = ScriptedEngine(
        {"orchestrator": orchestrator, "researcher": researcher}, info=ModelInfo(name="kimi-test")
    )
    index = LocalDocsIndex(corpus, progress=False)
    fetch = FetchUrlTool(Policy(AllowList.parse(["127.0.0.1"])))  # test-only allow-list
    registry = ToolRegistry([WebSearchTool(index), fetch])
    service = SwarmService(engine, registry, open_store(":memory:"), SwarmLimits())

    request = ChatRequest(messages=[{"role": "user", "content": "otters?"}])
    outputs = [item async for item in service.run(request, service.options(None))]
    service.store.close()

    assert outputs, "the run produced nothing"
    sub_tools = tool_texts(engine.requests_for("researcher")[-1])
    assert "doc:animals/otters.html#1" in sub_tools[0]
    assert sub_tools[1].startswith(f"URL: {page}")
    assert http_server.hits == ["/otters"]
    final = tool_texts(engine.requests_for("orchestrator")[-1])
    answer = final[-1]
    assert "Top hit: 1. Otters" in answer and "rocks as tools" in answer
    # context sharding: the orchestrator never saw the raw search listing
    assert not any("Results for" in t for t in final)
