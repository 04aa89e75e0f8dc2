"""Session fixtures: one real server per model for the whole test session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.models import build_tiny_kimi
from tests.servers import ServerProcess, start_server


@pytest.fixture(scope="session")
def smol_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """`kimi-swarm serve` with no --model: the embedded SmolLM2 as `smollm2` (+ `smollm2-swarm`)."""
    store = tmp_path_factory.mktemp("runs") / "runs.sqlite3"
    # No fetch_url: a sub-agent of the 135M model would look up made-up hosts (tests send no
    # traffic, not even DNS, beyond 127.0.0.1).
    args = ["--max-num-seqs", "16", "--swarm-store", str(store), "--disable-tool", "fetch_url"]
    server = start_server(args)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def tiny_kimi_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_kimi(tmp_path_factory.mktemp("tiny-kimi"))


@pytest.fixture(scope="session")
def kimi_server(tiny_kimi_dir: Path) -> Iterator[ServerProcess]:
    """The tiny Kimi K2.5 (dummy weights) with the kimi_k2 parsers, served as `kimi-tiny`."""
    server = start_server(
        [
            "--model",
            str(tiny_kimi_dir),
            "--served-model-name",
            "kimi-tiny",
            "--load-format",
            "dummy",
            "--tool-call-parser",
            "kimi_k2",
            "--reasoning-parser",
            "kimi_k2",
            "--enable-auto-tool-choice",
            "--trust-remote-code",
            "--max-model-len",
            "4096",
            "--max-num-seqs",
            "8",
        ]
    )
    yield server
    server.stop()
