"""Flags declared as tables: one row per option, one function that adds a table to a parser."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Flag:
    """One `--option`: its dest, how to convert it, its default and one line of help."""

    option: str
    help: str
    type: Callable[[str], Any] | None = str
    default: Any = None
    action: str | None = None  # "store_true" | "append"
    metavar: str | None = None
    choices: Sequence[str] | None = None
    dest: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def add_to(self, group: argparse._ArgumentGroup) -> None:
        kwargs: dict[str, Any] = {"help": self.help, **self.extra}
        if self.dest:
            kwargs["dest"] = self.dest
        if self.action == "store_true":
            group.add_argument(self.option, action="store_true", **kwargs)
            return
        if self.action == "append":
            kwargs["action"] = "append"
            kwargs["default"] = list(self.default or [])
        else:
            kwargs["default"] = self.default
        if self.type is not None and self.type is not str:
            kwargs["type"] = self.type
        if self.metavar:
            kwargs["metavar"] = self.metavar
        if self.choices is not None:
            kwargs["choices"] = list(self.choices)
        group.add_argument(self.option, **kwargs)


def add_flags(
    parser: argparse.ArgumentParser, title: str, flags: Sequence[Flag], description: str = ""
) -> None:
    """Add one argument group holding every row of `flags`."""
    group = parser.add_argument_group(title, description or None)
    for flag in flags:
        flag.add_to(group)
