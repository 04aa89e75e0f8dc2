"""Operator tools: a real stdio MCP server (MCPServer from the `mcp` library), entry points, specs."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from tools.base import Json, ToolContext, ToolResult, ToolSpec
from tools.config import ToolsConfig
from tools.mcp_tools import McpServerConfig
from tools.plugins import load_all, load_spec
from tools.registry_factory import open_registry

SERVER = textwrap.dedent(
    '''
    from mcp.server.mcpserver import MCPServer

    app = MCPServer("demo")

    @app.tool()
    def add(a: int, b: int) -> int:
        """Add two integers."""
        return a + b

    @app.tool()
    def boom() -> str:
        """Always fails."""
        raise RuntimeError("kaboom")

    if __name__ == "__main__":
        app.run("stdio")
    '''
)

BASE = dict(disabled=frozenset({"web_search", "fetch_url", "python", "image_ops"}))


async def test_mcp_server_tools_are_registered_and_callable(tmp_path: Path) -> None:
    script = tmp_path / "server.py"
    script.write_text(SERVER)
    server = McpServerConfig("demo", (sys.executable, str(script)), timeout_s=20)
    config = ToolsConfig(mcp_servers=(server,), load_entry_points=False, **BASE)
    async with open_registry(config) as registry:
        assert registry.names() == ["demo__add", "demo__boom"]
        schema = registry.schemas(["demo__add"])[0]["function"]
        assert schema["description"] == "Add two integers."
        assert schema["parameters"]["required"] == ["a", "b"]
        ok = await registry.invoke("demo__add", {"a": 2, "b": 40}, ToolContext())
        bad_args = await registry.invoke("demo__add", {"a": "x"}, ToolContext())
        failed = await registry.invoke("demo__boom", {}, ToolContext())
    assert ok.text == "42" and not ok.is_error
    assert bad_args.is_error
    assert failed.is_error and "boom" in failed.text


def test_mcp_flag_parsing() -> None:
    cfg = McpServerConfig.parse("files=npx -y @modelcontextprotocol/server-filesystem '/data dir'")
    assert cfg.name == "files" and cfg.command[-1] == "/data dir"
    with pytest.raises(ValueError, match="NAME=COMMAND"):
        McpServerConfig.parse("no-command")
    with pytest.raises(ValueError, match="letters, digits"):
        McpServerConfig.parse("bad name=cmd")


PLUGIN = textwrap.dedent(
    """
    from tools.base import ToolResult, ToolSpec

    class Shout:
        spec = ToolSpec("shout", "Upper-case text.", {"type": "object"})

        async def call(self, args, ctx):
            return ToolResult(str(args.get("text", "")).upper())

    def make_tools():
        return [Shout()]

    not_a_tool = 42
    """
)


@pytest.fixture
def plugin_dist(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An installed-looking distribution (dist-info) that declares `kimi_swarm.tools` entries."""
    (tmp_path / "shout_plugin.py").write_text(PLUGIN)
    info = tmp_path / "shout_plugin-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: shout-plugin\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(
        "[kimi_swarm.tools]\nshout = shout_plugin:make_tools\nbroken = shout_plugin:not_a_tool\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "shout_plugin", raising=False)
    return tmp_path


async def test_entry_point_tools_load_and_broken_ones_are_skipped(plugin_dist: Path) -> None:
    config = ToolsConfig(**BASE)
    async with open_registry(config) as registry:
        assert "shout" in registry.names()
        result = await registry.invoke("shout", {"text": "hi"}, ToolContext())
    assert result.text == "HI"


class Local:
    spec = ToolSpec("local_tool", "A tool named by spec.", {"type": "object"})

    async def call(self, args: Json, ctx: ToolContext) -> ToolResult:
        return ToolResult("local")


LOCAL = Local()


def test_specs() -> None:
    assert [t.spec.name for t in load_spec(f"{__name__}:LOCAL")] == ["local_tool"]
    assert load_all([f"{__name__}:LOCAL"], entry_point_group=None)[0] is LOCAL
    with pytest.raises(ValueError, match=r"package\.module:attribute"):
        load_spec("no_colon")
    with pytest.raises(TypeError, match="not tools"):
        load_spec(f"{__name__}:Json")
