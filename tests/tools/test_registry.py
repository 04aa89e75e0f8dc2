"""ToolRegistry.invoke turns every failure into a result; names follow OpenAI's rules."""

from __future__ import annotations

import asyncio

import pytest

from tools.base import Json, ToolContext, ToolError, ToolRegistry, ToolResult, ToolSpec


class Echo:
    def __init__(self, name: str = "echo", timeout_s: float = 5.0) -> None:
        self.spec = ToolSpec(name, "Echo.", {"type": "object"}, timeout_s=timeout_s)

    async def call(self, args: Json, ctx: ToolContext) -> ToolResult:
        if args.get("sleep"):
            await asyncio.sleep(args["sleep"])
        if args.get("fail") == "tool":
            raise ToolError("say it differently")
        if args.get("fail") == "bug":
            raise KeyError("oops")
        return ToolResult(f"echo {args.get('x')}")


@pytest.mark.parametrize(
    ("arguments", "expect", "is_error"),
    [
        ('{"x": 1}', "echo 1", False),
        ({"x": 2}, "echo 2", False),
        ("{not json", "not valid JSON", True),
        ("[1, 2]", "must be a JSON object", True),
        ({"fail": "tool"}, "echo: say it differently", True),
        ({"fail": "bug"}, "echo failed: KeyError", True),
        ({"sleep": 5}, "timed out after 0.05 s", True),
    ],
)
async def test_invoke(arguments: str | Json, expect: str, is_error: bool) -> None:
    reg = ToolRegistry([Echo(timeout_s=0.05)])
    result = await reg.invoke("echo", arguments, ToolContext())
    assert expect in result.text and result.is_error is is_error


async def test_unknown_tool_lists_the_available_ones() -> None:
    result = await ToolRegistry([Echo()]).invoke("nope", {}, ToolContext())
    assert result.is_error and "available: echo" in result.text


def test_names_are_unique_and_valid() -> None:
    reg = ToolRegistry([Echo()])
    with pytest.raises(ValueError, match="already registered"):
        reg.register(Echo())
    with pytest.raises(ValueError, match="must match"):
        reg.register(Echo("has space"))
    assert reg.schemas(["echo", "missing"], strict=True)[0]["function"]["strict"] is True
