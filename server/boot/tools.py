"""`serve` flags for the sub-agent tools (a table) → a `ToolsConfig`."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from server.boot.flags import Flag, add_flags
from tools.config import SearchBackend, ToolsConfig
from tools.mcp_tools import McpServerConfig

FLAGS = (
    Flag("--search-backend", "web_search provider: 'local' BM25 over --search-docs (offline), "
         "'searxng', 'brave'; 'auto' picks searxng/brave when configured, else local.",
         default="auto", choices=[b.value for b in SearchBackend]),
    Flag("--search-docs", "Folder of txt/md/html/pdf documents for the offline search index.",
         Path, metavar="DIR"),
    Flag("--searxng-url", "SearXNG base URL for web_search."),
    Flag("--brave-api-key", "Brave Search API key (env BRAVE_API_KEY).",
         default=os.environ.get("BRAVE_API_KEY")),
    Flag("--tool-allow-host", "Host, address or network fetch_url may reach even if private or "
         "loopback (repeatable; media URLs use --media-allow-host).", action="append",
         metavar="HOST"),
    Flag("--python-allow-unsandboxed", "Let the python tool run without network/filesystem "
         "isolation when the kernel offers none (off: the tool refuses instead).",
         action="store_true"),
    Flag("--mcp-server", "A stdio MCP server whose tools sub-agents may use (repeatable).",
         action="append", metavar="NAME=COMMAND"),
    Flag("--tool", "An extra tool (a Tool, a list of them, or a factory) (repeatable).",
         action="append", metavar="MODULE:ATTR"),
    Flag("--no-tool-entry-points", "Do not load tools from the 'kimi_swarm.tools' entry point "
         "group.", action="store_true"),
    Flag("--disable-tool", "Leave a built-in tool out (repeatable).", action="append",
         metavar="NAME"),
)  # fmt: skip


def add_tools_args(parser: argparse.ArgumentParser) -> None:
    add_flags(parser, "sub-agent tools", FLAGS)


def tools_config_from_args(args: argparse.Namespace) -> ToolsConfig:
    return ToolsConfig(
        search_backend=SearchBackend(args.search_backend),
        search_docs=args.search_docs,
        searxng_url=args.searxng_url,
        brave_api_key=args.brave_api_key,
        allow_hosts=frozenset(args.tool_allow_host),
        allow_unsandboxed=args.python_allow_unsandboxed,
        mcp_servers=tuple(McpServerConfig.parse(s) for s in args.mcp_server),
        tool_specs=tuple(args.tool),
        load_entry_points=not args.no_tool_entry_points,
        disabled=frozenset(args.disable_tool),
    )
