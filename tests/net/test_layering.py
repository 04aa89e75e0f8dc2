"""`net/` stands alone: it imports the standard library, httpx and itself, nothing else."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

NET = Path(__file__).resolve().parents[2] / "net"


def test_net_imports_only_stdlib_and_httpx() -> None:
    found: set[str] = set()
    for path in NET.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module:
                found.add(node.module.split(".")[0])
    assert "net" in found  # the walk saw the package's own imports
    assert found - set(sys.stdlib_module_names) - {"httpx", "net"} == set()
