"""Build the server's `ToolRegistry` from a `ToolsConfig`.

`build_registry` (blocking: builds the search index, probes the sandbox) gives the
built-ins plus Python plugin tools; `open_registry` also starts the configured MCP
servers and stops them on exit, for the server lifespan:

    async with open_registry(config) as registry:
        ...
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager

import httpx

from net import AllowList, Policy
from tools.base import Tool, ToolRegistry
from tools.config import SearchBackend, ToolsConfig
from tools.fetch_url import FetchUrlTool
from tools.image_ops import ImageOpsTool
from tools.mcp_tools import connect
from tools.plugins import load_all
from tools.python_tool import PythonTool
from tools.search.base import SearchProvider
from tools.search.local import LocalDocsIndex
from tools.search.web import BraveProvider, SearxngProvider, search_client
from tools.web_search import WebSearchTool

log = logging.getLogger(__name__)


def make_search_provider(
    config: ToolsConfig, client: httpx.AsyncClient | None = None
) -> SearchProvider:
    """The configured provider; the local index is built here (with a progress bar)."""
    backend = config.resolved_backend()
    if backend is SearchBackend.LOCAL:
        index = LocalDocsIndex(
            config.search_docs, refresh_s=config.search_refresh_s, progress=config.progress
        )
        index.refresh()
        return index
    if backend is SearchBackend.SEARXNG:
        assert config.searxng_url  # checked by ToolsConfig
        client = client or search_client(config.searxng_url)
        return SearxngProvider(config.searxng_url, client)
    assert config.brave_api_key
    return BraveProvider(config.brave_api_key, client or search_client(None))


def builtin_tools(config: ToolsConfig) -> list[Tool]:
    policy = Policy(AllowList.parse(config.allow_hosts))
    makers: dict[str, Callable[[], Tool]] = {
        "web_search": lambda: WebSearchTool(make_search_provider(config)),
        "fetch_url": lambda: FetchUrlTool(policy, config.fetch),
        "python": lambda: PythonTool(config.sandbox, config.allow_unsandboxed),
        "image_ops": ImageOpsTool,
    }
    left_out = set(config.disabled)
    if not config.search_configured():  # offered only when there is something to search
        left_out.add("web_search")
        log.info("web_search off: no search backend configured (--search-docs, --searxng-url, ...)")
    return [make() for name, make in makers.items() if name not in left_out]


def build_registry(config: ToolsConfig) -> ToolRegistry:
    """Built-in and Python-plugin tools. Blocking (index build, sandbox probe)."""
    registry = ToolRegistry(builtin_tools(config))
    group = "kimi_swarm.tools" if config.load_entry_points else None
    for tool in load_all(config.tool_specs, entry_point_group=group):
        registry.register(tool)
    python = registry.get("python")
    if isinstance(python, PythonTool) and python.mode is None:
        log.warning("python tool disabled: %s", python.unavailable)
    return registry


@asynccontextmanager
async def open_registry(config: ToolsConfig) -> AsyncIterator[ToolRegistry]:
    """`build_registry` plus the MCP servers' tools, which live until the block exits."""
    registry = await asyncio.to_thread(build_registry, config)
    async with AsyncExitStack() as stack:
        for server in config.mcp_servers:
            for tool in await connect(server, stack):
                registry.register(tool)
            log.info("MCP server %s connected", server.name)
        yield registry
