"""What the python sandbox can see: only what running Python needs, in root and non-root modes.

Secrets are planted where a server keeps them (its home, its run store, its configs, its
checkout); the sandbox must not find any of them, nor be able to mount or unshare again.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tools.base import ToolContext, ToolRegistry
from tools.python_tool import PythonTool
from tools.sandbox.isolation import SandboxLimits

REPO = Path(__file__).resolve().parents[2]
PROBE = """
import ctypes, json, os
paths = json.loads({paths!r})
libc = ctypes.CDLL(None, use_errno=True)
print(json.dumps({{
    "root": sorted(os.listdir("/")),
    "seen": [p for p in paths if os.path.exists(p)],
    "mount": libc.mount(b"none", b"/tmp", b"tmpfs", 0, None),
    "uid": os.getuid(),
}}))
"""


@pytest.fixture
def open_dir() -> Iterator[Path]:
    """A directory every user can read (pytest's own tmp dirs are private to their owner)."""
    path = Path(tempfile.mkdtemp(prefix="kimi-view-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path)


@pytest.fixture
def secrets(open_dir: Path) -> list[str]:
    """World-readable files a run must not see: a run store, a config, a cache, the checkout."""
    store = open_dir / "cache" / "runs.sqlite3"
    config = open_dir / "etc" / "kimi-swarm.yaml"
    for path in (store, config):
        path.parent.mkdir(parents=True)
        path.write_text("secret")
        path.parent.chmod(0o755)
        path.chmod(0o644)
    return [str(store), str(config), str(REPO / "README.md"), os.path.expanduser("~/.cache")]


def _report(text: str) -> dict:  # type: ignore[type-arg]
    line = next(ln for ln in text.splitlines() if ln.startswith("{"))
    return json.loads(line)


# The interpreter's install is bound where it lives (e.g. /root/.pyenv, /opt/venv).
PREFIX_TOPS = {Path(os.path.realpath(p)).parts[1] for p in (sys.prefix, sys.base_prefix)}
ALLOWED_TOP = {"bin", "dev", "etc", "lib", "lib32", "lib64", "libx32", "proc", "sbin", "tmp",
               "usr", "var"}  # fmt: skip


async def test_root_mode_sees_only_python_and_its_libraries(secrets: list[str]) -> None:
    tool = PythonTool(SandboxLimits())
    if tool.mode is None:
        pytest.skip(f"no sandbox on this machine: {tool.unavailable}")
    result = await ToolRegistry([tool]).invoke(
        "python", {"code": PROBE.format(paths=json.dumps(secrets))}, ToolContext()
    )
    assert not result.is_error, result.text
    seen = _report(result.text)
    assert seen["seen"] == []
    assert set(seen["root"]) <= ALLOWED_TOP | PREFIX_TOPS
    assert seen["mount"] != 0  # no privilege left to undo any of it


@pytest.mark.skipif(os.geteuid() != 0, reason="switching to an unprivileged user needs root")
def test_non_root_mode_sees_only_python_and_drops_capabilities(
    secrets: list[str], open_dir: Path
) -> None:
    """As an ordinary user (user namespace), with the system interpreter (readable by all)."""
    python, setpriv = shutil.which("python3", path="/usr/bin"), shutil.which("setpriv")
    if python is None or setpriv is None:
        pytest.skip("needs /usr/bin/python3 and setpriv")
    runner = open_dir / "runner.py"
    runner.write_text(
        "import subprocess, sys\n"
        "sys.path.insert(0, sys.argv[1])\n"
        "from tools.sandbox import isolation as iso\n"
        "argv = iso.command(iso.Isolation.NAMESPACES, iso.SandboxLimits(), cpu_s=5,"
        " workdir='/tmp/work', slot=0)\n"
        "done = subprocess.run(argv, input=sys.stdin.buffer.read(), capture_output=True,"
        " env=iso.child_env('/tmp/work'), timeout=60)\n"
        "sys.stdout.write(done.stdout.decode() + done.stderr.decode())\n"
    )
    runner.chmod(0o644)
    code = PROBE.format(paths=json.dumps(secrets))
    done = subprocess.run(
        [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", python, "-I",
         str(runner), str(REPO)],
        input=code.encode(), capture_output=True, timeout=90, check=False,
    )  # fmt: skip
    out = done.stdout.decode()
    if "{" not in out:
        pytest.skip(f"user namespaces unavailable to ordinary users here: {out[-300:]}")
    seen = _report(out)
    assert seen["uid"] == 0  # root inside its own user namespace...
    assert seen["mount"] != 0  # ...without any capability
    assert seen["seen"] == []
    assert set(seen["root"]) <= ALLOWED_TOP
