"""Start a real `kimi-swarm serve` process on 127.0.0.1 for tests and benchmarks."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

CPU_ENV = {
    "VLLM_CPU_KVCACHE_SPACE": "1",
    "VLLM_CPU_OMP_THREADS_BIND": f"0-{(os.cpu_count() or 1) - 1}",
    "VLLM_CPU_NUM_OF_RESERVED_CPU": "0",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class ServerProcess:
    proc: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"

    def log_tail(self, n: int = 60) -> str:
        lines = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(lines[-n:])

    def stop(self, timeout: float = 60) -> int:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return int(self.proc.returncode)


def start_server(
    args: list[str], *, env: dict[str, str] | None = None, timeout_s: float = 600
) -> ServerProcess:
    """Run `python -m server serve ARGS` on a free port and wait until /health answers 200."""
    if "--swarm-store" not in args:
        args = [*args, "--swarm-store", ":memory:"]  # tests never touch the user's run store
    cmd = [sys.executable, "-m", "server", "serve", *args, "--host", "127.0.0.1"]
    return start_command(cmd, env=env, timeout_s=timeout_s)


def start_command(
    cmd: list[str], *, env: dict[str, str] | None = None, timeout_s: float = 600
) -> ServerProcess:
    """Run any OpenAI-compatible server command (`--port P` appended) until /health is 200."""
    port = free_port()
    log_path = Path(tempfile.mkstemp(prefix="kimi-swarm-", suffix=".log")[1])
    # The kernel tests set TRITON_INTERPRET in this process; an engine must not inherit it.
    inherited = {k: v for k, v in os.environ.items() if k != "TRITON_INTERPRET"}
    full_env = {**inherited, **CPU_ENV, **(env or {})}
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [*cmd, "--port", str(port)], stdout=log, stderr=subprocess.STDOUT, env=full_env
        )
    server = ServerProcess(proc, port, log_path)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}:\n{server.log_tail()}")
        try:
            if httpx.get(f"{server.url}/health", timeout=2).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    server.stop()
    raise RuntimeError(f"server not healthy after {timeout_s} s:\n{server.log_tail()}")
