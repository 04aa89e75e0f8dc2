"""The `python(code, timeout_s?)` tool: run a script in a sandboxed child process.

See `tools/sandbox/isolation.py` for what isolates a run. Without working
namespaces the tool refuses to run unless the operator set `allow_unsandboxed`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import tempfile
from dataclasses import dataclass, field

from tools.args import opt_float, req_str
from tools.base import Json, ToolContext, ToolError, ToolResult, ToolSpec
from tools.sandbox.isolation import Isolation, SandboxLimits, child_env, command, probe


@dataclass(slots=True)
class RunOutput:
    exit_code: int | None  # None: killed at the wall-time limit
    stdout: str
    stderr: str


def _spec(limits: SandboxLimits) -> ToolSpec:
    return ToolSpec(
        name="python",
        description=(
            "Run a Python 3 script in a sandbox (no network, limited CPU, memory and disk; the "
            "standard library and numpy are available). Print what you need; stdout and "
            "stderr are returned."
        ),
        parameters={
            "type": "object",
            "properties": {
                "code": {"type": "string", "description": "The complete script to run."},
                "timeout_s": {
                    "type": "number",
                    "minimum": 1,
                    "maximum": limits.max_wall_s,
                    "description": f"Wall-clock limit in seconds (default {limits.wall_s:g}).",
                },
            },
            "required": ["code"],
            "additionalProperties": False,
        },
        timeout_s=limits.max_wall_s + 10.0,
    )


def _clip(data: bytes, limit: int) -> str:
    text = data.decode("utf-8", errors="replace")
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n[... truncated: {len(text) - limit} more characters]"


async def _drain(stream: asyncio.StreamReader, kept: bytearray, limit: int) -> None:
    """Keep the first `limit` bytes and discard the rest, so the child never blocks on a full pipe."""
    while chunk := await stream.read(65536):
        if len(kept) < limit:
            kept += chunk[: limit - len(kept)]


@dataclass(slots=True)
class PythonTool:
    limits: SandboxLimits = field(default_factory=SandboxLimits)
    allow_unsandboxed: bool = False
    spec: ToolSpec = field(init=False)
    mode: Isolation | None = field(init=False)
    unavailable: str | None = field(init=False)  # why isolation is missing
    _slots: asyncio.Queue[int] = field(init=False)

    def __post_init__(self) -> None:
        self.spec = _spec(self.limits)
        self.unavailable = probe(self.limits)
        if self.unavailable is None:
            self.mode = Isolation.NAMESPACES
        else:
            self.mode = Isolation.NONE if self.allow_unsandboxed else None
        self._slots = asyncio.Queue()
        for slot in range(self.limits.concurrency):
            self._slots.put_nowait(slot)

    async def call(self, args: Json, ctx: ToolContext) -> ToolResult:
        code = req_str(args, "code", max_len=self.limits.max_code_chars)
        wall = opt_float(args, "timeout_s", self.limits.wall_s, 1.0, self.limits.max_wall_s)
        if self.mode is None:
            raise ToolError(
                f"the python tool is disabled: no sandbox is available ({self.unavailable}) "
                "and the operator has not allowed unsandboxed runs"
            )
        slot = await self._slots.get()  # bounded concurrency: queue, never reject
        try:
            out = await self.run(code, wall, slot, self.mode)
        finally:
            self._slots.put_nowait(slot)
        return _result(out, wall)

    async def run(self, code: str, wall_s: float, slot: int, mode: Isolation) -> RunOutput:
        """One run; the child and everything it started are gone when this returns."""
        cpu = max(1, min(self.limits.cpu_s, int(wall_s) + 1))
        with tempfile.TemporaryDirectory(prefix="kimi-py-") as host_dir:
            # Isolated runs work in their private tmpfs; unsandboxed ones in a host temp dir.
            workdir = "/tmp/work" if mode is Isolation.NAMESPACES else host_dir
            argv = command(mode, self.limits, cpu_s=cpu, workdir=workdir, slot=slot)
            proc = await asyncio.create_subprocess_exec(
                *argv,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                env=child_env(workdir),
                cwd=host_dir,
                start_new_session=True,  # its own process group, killed as one
            )
            try:
                return await self._communicate(proc, code, wall_s)
            finally:
                _kill_group(proc)
                await proc.wait()

    async def _communicate(
        self, proc: asyncio.subprocess.Process, code: str, wall_s: float
    ) -> RunOutput:
        assert proc.stdin and proc.stdout and proc.stderr
        limit = self.limits.output_chars * 4  # bytes; UTF-8 is at most 4 per character
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            proc.stdin.write(code.encode())
            await proc.stdin.drain()
        proc.stdin.close()
        out, err = (
            bytearray(),
            bytearray(),
        )  # filled as the run goes: partial output survives a kill
        exit_code: int | None = None
        try:
            async with asyncio.timeout(wall_s), asyncio.TaskGroup() as tg:
                tg.create_task(_drain(proc.stdout, out, limit))
                tg.create_task(_drain(proc.stderr, err, limit))
            exit_code = await proc.wait()
        except TimeoutError:
            pass
        clip = self.limits.output_chars
        return RunOutput(exit_code, _clip(bytes(out), clip), _clip(bytes(err), clip))


def _kill_group(proc: asyncio.subprocess.Process) -> None:
    # Killing `unshare` kills the run's PID namespace (--kill-child); the group catches the rest.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


def _result(out: RunOutput, wall_s: float) -> ToolResult:
    if out.exit_code is None:
        status = f"killed: the run exceeded its wall-clock limit of {wall_s:g} s"
    else:
        status = f"exit code: {out.exit_code}"
        if out.exit_code < 0:
            with contextlib.suppress(ValueError):
                status += f" (killed by {signal.Signals(-out.exit_code).name})"
    parts = [status]
    if out.stdout:
        parts.append(f"stdout:\n{out.stdout}")
    if out.stderr:
        parts.append(f"stderr:\n{out.stderr}")
    if not out.stdout and not out.stderr:
        parts.append("(no output; use print() to show results)")
    return ToolResult("\n".join(parts), out.exit_code != 0)
