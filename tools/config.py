"""What an operator configures about the sub-agent tools (filled from `kimi-swarm serve` flags)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from pathlib import Path

from tools.fetch_url import FetchLimits
from tools.mcp_tools import McpServerConfig
from tools.sandbox.isolation import SandboxLimits


class SearchBackend(enum.Enum):
    AUTO = "auto"  # searxng if a URL is set, else brave if a key is set, else local
    LOCAL = "local"  # BM25 over `search_docs` (offline)
    SEARXNG = "searxng"
    BRAVE = "brave"


@dataclass(slots=True, frozen=True)
class ToolsConfig:
    search_backend: SearchBackend = SearchBackend.AUTO
    search_docs: Path | None = None
    search_refresh_s: float = 60.0
    searxng_url: str | None = None
    brave_api_key: str | None = None
    # Hosts, addresses or networks that fetch_url may reach even though they are private.
    allow_hosts: frozenset[str] = frozenset()
    fetch: FetchLimits = field(default_factory=FetchLimits)
    sandbox: SandboxLimits = field(default_factory=SandboxLimits)
    allow_unsandboxed: bool = False
    mcp_servers: tuple[McpServerConfig, ...] = ()
    # `package.module:attribute` specs of extra tools; entry points load unless disabled.
    tool_specs: tuple[str, ...] = ()
    load_entry_points: bool = True
    # Built-in tools to leave out (e.g. {"python"}).
    disabled: frozenset[str] = frozenset()
    progress: bool = True  # the index-building progress bar

    def __post_init__(self) -> None:
        if self.search_backend is SearchBackend.SEARXNG and not self.searxng_url:
            raise ValueError("search backend 'searxng' needs --searxng-url")
        if self.search_backend is SearchBackend.BRAVE and not self.brave_api_key:
            raise ValueError("search backend 'brave' needs --brave-api-key (or BRAVE_API_KEY)")

    def resolved_backend(self) -> SearchBackend:
        if self.search_backend is not SearchBackend.AUTO:
            return self.search_backend
        if self.searxng_url:
            return SearchBackend.SEARXNG
        return SearchBackend.BRAVE if self.brave_api_key else SearchBackend.LOCAL

    def search_configured(self) -> bool:
        """A web backend, or the local one with a documents folder: else nothing to search."""
        return self.resolved_backend() is not SearchBackend.LOCAL or self.search_docs is not None
