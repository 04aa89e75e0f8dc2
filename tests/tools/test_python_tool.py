"""The python sandbox: ordinary runs, bad arguments, and escape attempts that must be contained.

The escape tests need working namespaces (util-linux `unshare`); they skip with a
reason where the sandbox is unavailable. The socket test only ever targets 127.0.0.1.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tools.base import ToolContext, ToolRegistry
from tools.python_tool import PythonTool
from tools.sandbox import isolation
from tools.sandbox.isolation import SandboxLimits

LIMITS = SandboxLimits(cpu_s=5, memory_mb=512, wall_s=10, max_wall_s=20, output_chars=2000)
CTX = ToolContext()


@pytest.fixture(scope="module")
def tool() -> PythonTool:
    return PythonTool(LIMITS)


@pytest.fixture
def sandboxed(tool: PythonTool) -> ToolRegistry:
    if tool.mode is None:
        pytest.skip(f"no sandbox on this machine: {tool.unavailable}")
    return ToolRegistry([tool])


def any_exists(*paths: Path) -> bool:
    return any(p.exists() for p in paths)


async def run(reg: ToolRegistry, code: str, **extra: object):
    return await reg.invoke("python", {"code": code, **extra}, CTX)


async def test_prints_and_computes(sandboxed: ToolRegistry) -> None:
    result = await run(
        sandboxed, "import math, numpy\nprint(math.factorial(20), numpy.arange(5).sum())"
    )
    assert not result.is_error, result.text
    assert "exit code: 0" in result.text and "2432902008176640000 10" in result.text


async def test_exceptions_come_back_as_errors(sandboxed: ToolRegistry) -> None:
    result = await run(sandboxed, "print('before')\n1/0")
    assert result.is_error
    assert "before" in result.text and "ZeroDivisionError" in result.text


async def test_output_is_truncated(sandboxed: ToolRegistry) -> None:
    result = await run(sandboxed, "print('y' * 50_000)")
    assert "[... truncated:" in result.text
    assert result.text.count("y") <= LIMITS.output_chars


@pytest.fixture
def listener() -> Iterator[tuple[int, list[bool]]]:
    """A TCP listener on 127.0.0.1 that records whether anyone connected."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen()
    srv.settimeout(0.2)
    accepted: list[bool] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
            except OSError:
                continue
            accepted.append(True)
            conn.close()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield srv.getsockname()[1], accepted
    stop.set()
    thread.join(2)
    srv.close()


async def test_escape_network(sandboxed: ToolRegistry, listener: tuple[int, list[bool]]) -> None:
    port, accepted = listener
    code = (
        "import socket\ns = socket.socket()\ns.settimeout(2)\n"
        f"print('connect:', s.connect_ex(('127.0.0.1', {port})))"
    )
    result = await run(sandboxed, code)
    assert "connect: 0" not in result.text and "connect:" in result.text
    assert accepted == []


async def test_escape_write_outside_workdir(sandboxed: ToolRegistry, tmp_path: Path) -> None:
    target = tmp_path / "pwned.txt"
    code = (
        f"for p in [{str(target)!r}, '/etc/pwned', {str(Path.cwd() / 'pwned')!r}]:\n"
        "    try:\n        open(p, 'w').write('x'); print('wrote', p)\n"
        "    except OSError as e:\n        print('blocked', type(e).__name__)\n"
        "open('inside.txt', 'w').write('ok'); print('inside ok')"
    )
    result = await run(sandboxed, code)
    assert "wrote" not in result.text and result.text.count("blocked") == 3
    assert "inside ok" in result.text
    assert not any_exists(target, Path("/etc/pwned"))


async def test_escape_server_environment(
    sandboxed: ToolRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KIMI_SECRET_TOKEN", "s3cr3t-value")
    code = (
        "import os\nprint(sorted(os.environ))\n"
        "for pid in os.listdir('/proc'):\n"
        "    if pid.isdigit():\n"
        "        try: print(open(f'/proc/{pid}/environ', 'rb').read())\n"
        "        except OSError as e: print('denied', pid)\n"
    )
    result = await run(sandboxed, code)
    assert "s3cr3t-value" not in result.text and "KIMI_SECRET_TOKEN" not in result.text
    assert "PATH" in result.text


async def test_escape_fork_bomb(sandboxed: ToolRegistry) -> None:
    code = "import os\nwhile True:\n    os.fork()"
    result = await run(sandboxed, code, timeout_s=5)
    assert result.is_error
    after = await run(sandboxed, "print('still alive')")  # the machine and the tool are fine
    assert "still alive" in after.text


async def test_escape_memory_bomb(sandboxed: ToolRegistry) -> None:
    result = await run(sandboxed, "x = bytearray(4 * 1024 ** 3)\nprint('allocated')")
    assert result.is_error and "MemoryError" in result.text and "allocated" not in result.text


async def test_escape_infinite_loop(sandboxed: ToolRegistry) -> None:
    result = await run(
        sandboxed, "print('spinning', flush=True)\nwhile True:\n    pass", timeout_s=1
    )
    assert result.is_error
    assert "spinning" in result.text
    assert "wall-clock limit" in result.text or "CPU-time limit" in result.text


async def test_cpu_limit_under_long_wall_limit(sandboxed: ToolRegistry) -> None:
    tool = PythonTool(SandboxLimits(cpu_s=1, wall_s=20, max_wall_s=20))
    result = await ToolRegistry([tool]).invoke("python", {"code": "while True: pass"}, CTX)
    assert result.is_error and "CPU-time limit exceeded" in result.text


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        ({}, "'code' is required"),
        ({"code": ""}, "'code' is required"),
        ({"code": 42}, "must be a non-empty string"),
        ({"code": "print(1)", "timeout_s": 0}, "between 1 and 20"),
        ({"code": "print(1)", "timeout_s": "soon"}, "must be a number"),
        ({"code": "x" * 200_000}, "too long"),
    ],
)
async def test_bad_arguments(tool: PythonTool, args: dict, needle: str) -> None:
    result = await ToolRegistry([tool]).invoke("python", args, CTX)
    assert result.is_error and needle in result.text


def test_refuses_without_sandbox_unless_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("tools.python_tool.probe", lambda limits: "unshare is missing")
    refused = PythonTool(LIMITS)
    allowed = PythonTool(LIMITS, allow_unsandboxed=True)
    assert refused.mode is None and allowed.mode is isolation.Isolation.NONE


async def test_refusal_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("tools.python_tool.probe", lambda limits: "unshare is missing")
    result = await ToolRegistry([PythonTool(LIMITS)]).invoke("python", {"code": "print(1)"}, CTX)
    assert result.is_error and "unshare is missing" in result.text


async def test_unsandboxed_mode_still_scrubs_env_and_limits(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("tools.python_tool.probe", lambda limits: "no namespaces")
    monkeypatch.setenv("KIMI_SECRET_TOKEN", "s3cr3t-value")
    reg = ToolRegistry([PythonTool(LIMITS, allow_unsandboxed=True)])
    code = "import os\nprint(os.environ.get('KIMI_SECRET_TOKEN'), os.getcwd())\nx = bytearray(4 * 1024 ** 3)"
    result = await reg.invoke("python", {"code": code}, CTX)
    assert "None" in result.text and "kimi-py-" in result.text and "MemoryError" in result.text
    assert os.environ["KIMI_SECRET_TOKEN"] == "s3cr3t-value"
