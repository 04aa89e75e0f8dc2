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


async def test_concurrent_calls_each_keep_their_own_time_limit() -> None:
    """Calls share one timer per loop: a later call with a shorter limit still ends first, a
    call that finished in time is never cut, and a slow one is cut at its own limit."""
    reg = ToolRegistry([Echo("slow", timeout_s=0.4), Echo("quick", timeout_s=0.05)])
    loop = asyncio.get_running_loop()
    ended: dict[str, float] = {}

    async def call(name: str, args: Json) -> ToolResult:
        result = await reg.invoke(name, args, ToolContext())
        ended[f"{name}{args.get('x', '')}"] = loop.time()
        return result

    t0 = loop.time()
    slow = asyncio.create_task(call("slow", {"sleep": 5}))
    await asyncio.sleep(0.01)
    fine, cut = await asyncio.gather(call("quick", {"x": 1}), call("quick", {"sleep": 5}))
    assert (fine.text, fine.is_error) == ("echo 1", False)
    assert cut.is_error and "timed out after 0.05 s" in cut.text
    assert (await slow).is_error and "timed out after 0.4 s" in (await slow).text
    assert ended["quick"] - t0 < ended["slow"] - t0
    assert ended["slow"] - t0 >= 0.4  # not cut early by the quick calls' timer
    # The loop carries on: a later call under the same registry is limited again.
    again = await reg.invoke("quick", {"sleep": 5}, ToolContext())
    assert again.is_error and "timed out" in again.text


async def test_finished_calls_do_not_pile_up_until_their_deadline() -> None:
    """A thousand instant calls under a 30 s limit: their entries go long before 30 s."""
    reg = ToolRegistry([Echo(timeout_s=30.0)])
    for i in range(1000):
        assert (await reg.invoke("echo", {"x": i}, ToolContext())).text == f"echo {i}"
    assert reg._deadlines is not None and len(reg._deadlines._heap) <= 64 + 1
