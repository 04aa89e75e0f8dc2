"""Operator tools from Python: the `kimi_swarm.tools` entry-point group and `module:attr` specs.

An entry (or spec) names a `Tool`, a list of tools, or a zero-argument callable
returning either. A broken plugin is logged and skipped, never fatal.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Iterable
from importlib.metadata import entry_points
from typing import Any

from tools.base import Tool

log = logging.getLogger(__name__)

GROUP = "kimi_swarm.tools"


def _as_tools(obj: Any, origin: str) -> list[Tool]:
    if not isinstance(obj, Tool) and callable(obj) and not isinstance(obj, list | tuple):
        obj = obj()
    items = list(obj) if isinstance(obj, list | tuple) else [obj]
    bad = [type(i).__name__ for i in items if not isinstance(i, Tool)]
    if bad:
        raise TypeError(f"{origin} gave objects that are not tools: {', '.join(bad)}")
    return items


def load_spec(spec: str) -> list[Tool]:
    """Tools named by `package.module:attribute`."""
    module, sep, attr = spec.partition(":")
    if not sep or not module or not attr:
        raise ValueError(f"tool spec must look like 'package.module:attribute', got {spec!r}")
    obj: Any = importlib.import_module(module)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return _as_tools(obj, spec)


def load_entry_points(group: str = GROUP) -> list[Tool]:
    """Every tool that installed distributions declare in `group`."""
    found: list[Tool] = []
    for ep in entry_points(group=group):
        try:
            found.extend(_as_tools(ep.load(), f"entry point {ep.name!r}"))
        except Exception as exc:  # a broken plugin must not stop the server
            log.error("skipping tool entry point %s (%s): %s", ep.name, ep.value, exc)
    return found


def load_all(specs: Iterable[str], *, entry_point_group: str | None = GROUP) -> list[Tool]:
    """Entry-point tools, then spec tools (spec errors are the operator's typo: they raise)."""
    found = load_entry_points(entry_point_group) if entry_point_group else []
    for spec in specs:
        found.extend(load_spec(spec))
    return found
