"""`serve` flags for the sub-agent tools → a `ToolsConfig`."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from tools.config import SearchBackend, ToolsConfig
from tools.mcp_tools import McpServerConfig


def add_tools_args(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("sub-agent tools")
    g.add_argument(
        "--search-backend",
        choices=[b.value for b in SearchBackend],
        default="auto",
        help="web_search provider: 'local' BM25 over --search-docs (offline), "
        "'searxng', 'brave'; 'auto' picks searxng/brave when configured, else local.",
    )
    g.add_argument(
        "--search-docs",
        type=Path,
        default=None,
        metavar="DIR",
        help="Folder of txt/md/html/pdf documents for the offline search index.",
    )
    g.add_argument("--searxng-url", default=None, help="SearXNG base URL for web_search.")
    g.add_argument(
        "--brave-api-key",
        default=os.environ.get("BRAVE_API_KEY"),
        help="Brave Search API key (env BRAVE_API_KEY).",
    )
    g.add_argument(
        "--tool-allow-host",
        action="append",
        default=[],
        metavar="HOST",
        help="Host, address or network fetch_url and media fetching may reach even if "
        "private or loopback (repeatable).",
    )
    g.add_argument(
        "--python-allow-unsandboxed",
        action="store_true",
        help="Let the python tool run without network/filesystem isolation when the "
        "kernel offers none (off: the tool refuses instead).",
    )
    g.add_argument(
        "--mcp-server",
        action="append",
        default=[],
        metavar="NAME=COMMAND",
        help="A stdio MCP server whose tools sub-agents may use (repeatable).",
    )
    g.add_argument(
        "--tool",
        action="append",
        default=[],
        metavar="MODULE:ATTR",
        help="An extra tool (a Tool, a list of them, or a factory) (repeatable).",
    )
    g.add_argument(
        "--no-tool-entry-points",
        action="store_true",
        help="Do not load tools from the 'kimi_swarm.tools' entry point group.",
    )
    g.add_argument("--disable-tool", action="append", default=[], metavar="NAME",
                   help="Leave a built-in tool out (repeatable).")  # fmt: skip


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
