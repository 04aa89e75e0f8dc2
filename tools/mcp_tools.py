"""Tools from operator-configured MCP servers over stdio (the `mcp` client library).

Each server is started once, its tools are listed, and each becomes a `Tool`
named `<server>__<tool>`. The sessions live inside the caller's `AsyncExitStack`
(the server lifespan), so entering and closing happen in one task as anyio wants.
"""

from __future__ import annotations

import base64
import re
import shlex
from contextlib import AsyncExitStack
from dataclasses import dataclass, field

from mcp import ClientSession, StdioServerParameters, stdio_client
from mcp import types as mt

from tools.base import Json, ToolContext, ToolError, ToolResult, ToolSpec

_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


@dataclass(slots=True, frozen=True)
class McpServerConfig:
    """One stdio MCP server: `name` prefixes its tools; `command` is argv."""

    name: str
    command: tuple[str, ...]
    env: tuple[tuple[str, str], ...] = ()
    timeout_s: float = 60.0

    def __post_init__(self) -> None:
        if not self.command:
            raise ValueError(f"MCP server {self.name!r} needs a command")
        if not self.name or _UNSAFE.search(self.name):
            raise ValueError(f"MCP server name {self.name!r} may only use letters, digits, _ and -")

    @classmethod
    def parse(cls, text: str) -> McpServerConfig:
        """`name=command arg ...` (the `--mcp-server` flag format)."""
        name, sep, cmd = text.partition("=")
        if not sep or not cmd.strip():
            raise ValueError(f"expected NAME=COMMAND [ARGS...], got {text!r}")
        return cls(name.strip(), tuple(shlex.split(cmd)))


def render(result: mt.CallToolResult) -> ToolResult:
    """MCP content blocks -> text (and PNG/JPEG images)."""
    texts: list[str] = []
    images: list[bytes] = []
    for block in result.content:
        if isinstance(block, mt.TextContent):
            texts.append(block.text)
        elif isinstance(block, mt.ImageContent):
            images.append(base64.b64decode(block.data))
            texts.append(f"[image {block.mime_type}]")
        else:
            texts.append(f"[{block.type} content]")
    if not texts and result.structured_content is not None:
        texts.append(str(result.structured_content))
    return ToolResult("\n".join(texts) or "(empty result)", bool(result.is_error), images)


@dataclass(slots=True)
class McpTool:
    """One tool of a connected MCP server."""

    session: ClientSession
    remote_name: str
    spec: ToolSpec
    _server: str = field(default="")

    async def call(self, args: Json, ctx: ToolContext) -> ToolResult:
        try:
            result = await self.session.call_tool(self.remote_name, args)
        except Exception as exc:  # transport or protocol errors from the library
            raise ToolError(f"MCP server {self._server!r} failed: {exc}") from exc
        return render(result)


def _spec(server: McpServerConfig, tool: mt.Tool) -> ToolSpec:
    name = _UNSAFE.sub("_", f"{server.name}__{tool.name}")[:64]
    schema = dict(tool.input_schema or {"type": "object", "properties": {}})
    schema.pop("title", None)
    return ToolSpec(name, tool.description or tool.name, schema, timeout_s=server.timeout_s)


async def connect(server: McpServerConfig, stack: AsyncExitStack) -> list[McpTool]:
    """Start `server`, list its tools; it stops when `stack` closes."""
    params = StdioServerParameters(
        command=server.command[0], args=list(server.command[1:]), env=dict(server.env) or None
    )
    read, write = await stack.enter_async_context(stdio_client(params))
    session = await stack.enter_async_context(
        ClientSession(read, write, read_timeout_seconds=server.timeout_s)
    )
    await session.initialize()
    listed = await session.list_tools()
    return [McpTool(session, t.name, _spec(server, t), server.name) for t in listed.tools]
