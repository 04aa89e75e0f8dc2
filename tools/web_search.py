"""The `web_search(query, max_results?)` tool over a pluggable `SearchProvider`."""

from __future__ import annotations

from dataclasses import dataclass

from tools.args import opt_int, req_str
from tools.base import Json, ToolContext, ToolResult, ToolSpec
from tools.search.base import SearchHit, SearchProvider

MAX_RESULTS = 20

SPEC = ToolSpec(
    name="web_search",
    description=(
        "Search for documents and web pages. Returns numbered results with a title, an "
        "address and a snippet. Read an http(s) address in full with fetch_url; a doc: "
        "address is a passage of the server's own library and its snippet is the text."
    ),
    parameters={
        "type": "object",
        "properties": {
            "query": {"type": "string", "description": "What to search for, in plain words."},
            "max_results": {
                "type": "integer",
                "minimum": 1,
                "maximum": MAX_RESULTS,
                "description": "How many results to return (default 5).",
            },
        },
        "required": ["query"],
        "additionalProperties": False,
    },
    timeout_s=30.0,
)


def render(query: str, hits: list[SearchHit]) -> str:
    if not hits:
        return f"No results for {query!r}. Try other or fewer words."
    lines = [f"Results for {query!r}:"]
    for n, hit in enumerate(hits, 1):
        lines.append(f"{n}. {hit.title or '(untitled)'}\n   {hit.url}\n   {hit.snippet}")
    return "\n".join(lines)


@dataclass(slots=True)
class WebSearchTool:
    provider: SearchProvider
    spec: ToolSpec = SPEC

    async def call(self, args: Json, ctx: ToolContext) -> ToolResult:
        query = req_str(args, "query", max_len=2000)
        k = opt_int(args, "max_results", 5, 1, MAX_RESULTS)
        hits = await self.provider.search(query.strip(), k)
        return ToolResult(render(query.strip(), hits[:k]))
