"""How the python tool isolates a run: the command line, the limits and a start-up probe.

Isolated runs use util-linux `unshare`: new network (no interfaces but a down
loopback), mount, and PID namespaces (`--kill-child`: killing `unshare` kills
every process of the run); `boot.py` then pivots into a root holding only read-only
binds of the system's programs and libraries and of the interpreter's install. As real root the run then drops to a per-slot uid so
RLIMIT_NPROC applies and host files are protected by their permissions; otherwise
a user namespace (`-r`) gives the mount rights and keeps its own process count.
"""

from __future__ import annotations

import enum
import json
import os
import shutil
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

BOOT = Path(__file__).with_name("boot.py")
CONTAINER_HINT = (
    " (in a container, Docker's default seccomp profile refuses unshare, mount and umount2 "
    "without CAP_SYS_ADMIN and pivot_root always: see docs/operations.md, 'The python tool')"
)
# Slot uids are far from real accounts; each concurrent run gets its own (NPROC is per uid).
UID_BASE = 1_500_000


class Isolation(enum.Enum):
    NAMESPACES = "namespaces"  # unshare: no network, private /tmp, read-only mounts, own PIDs
    NONE = "none"  # rlimits, scrubbed env and a temp dir only; operator must opt in


@dataclass(slots=True, frozen=True)
class SandboxLimits:
    cpu_s: int = 10
    memory_mb: int = 1024
    wall_s: float = 15.0
    max_wall_s: float = 60.0
    file_mb: int = 16  # largest file a run may write
    disk_mb: int = 64  # size of its private /tmp
    nproc: int = 32
    nofile: int = 64
    output_chars: int = 20_000
    max_code_chars: int = 100_000
    concurrency: int = 2

    def __post_init__(self) -> None:
        if min(self.cpu_s, self.memory_mb, self.file_mb, self.disk_mb, self.nproc) < 1:
            raise ValueError("sandbox limits must be positive")
        if self.nofile < 16 or self.concurrency < 1 or not 0 < self.wall_s <= self.max_wall_s:
            raise ValueError(
                "sandbox needs nofile >= 16, concurrency >= 1, 0 < wall_s <= max_wall_s"
            )


def child_env(workdir: str) -> dict[str, str]:
    """The whole environment a run sees: nothing of the server's."""
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": workdir,
        "TMPDIR": "/tmp",
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONIOENCODING": "utf-8",
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MPLBACKEND": "Agg",
    }


def command(
    mode: Isolation, limits: SandboxLimits, *, cpu_s: int, workdir: str, slot: int
) -> list[str]:
    """argv for one run; the code itself goes to stdin."""
    as_root = os.geteuid() == 0
    cfg = asdict(limits) | {
        "cpu_s": cpu_s,
        "workdir": workdir,
        "isolated": mode is Isolation.NAMESPACES,
        "uid": UID_BASE + slot if as_root else None,
        # What the dropped uid must still read: the interpreter and its packages.
        # (Also re-bound when it lives under /tmp, which the run gets a private tmpfs over.)
        "expose": sorted({os.path.realpath(p) for p in (sys.base_prefix, sys.prefix)}),
    }
    python = [sys.executable, "-I", "-B", str(BOOT), json.dumps(cfg)]
    if mode is Isolation.NONE:
        return python
    unshare = shutil.which("unshare") or "/usr/bin/unshare"
    flags = ["--net", "--mount", "--pid", "--fork", "--kill-child", "--mount-proc"]
    return [unshare, *([] if as_root else ["--map-root-user"]), *flags, "--", *python]


def probe(limits: SandboxLimits | None = None) -> str | None:
    """None when an isolated run works here, else why not. Blocking (~0.1 s)."""
    if shutil.which("unshare") is None:
        return "util-linux `unshare` is not installed"
    argv = command(
        Isolation.NAMESPACES, limits or SandboxLimits(), cpu_s=5, workdir="/tmp/w", slot=0
    )
    try:
        done = subprocess.run(
            argv,
            input=b"import socket\nprint('ok')",
            capture_output=True,
            timeout=30,
            env=child_env("/tmp/w"),
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"unshare failed to start: {exc}"
    if done.returncode != 0 or done.stdout.strip() != b"ok":
        tail = done.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
        hint = CONTAINER_HINT if "not permitted" in tail[0] else ""
        return f"namespaces are not available here: {tail[0]}{hint}"
    return None
