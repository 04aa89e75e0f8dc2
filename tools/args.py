"""Argument readers for tool calls: each raises `ToolError` with a message that says what to fix."""

from __future__ import annotations

from tools.base import Json, ToolError


def req_str(args: Json, key: str, *, max_len: int = 100_000) -> str:
    """A required, non-blank string argument."""
    value = args.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ToolError(f"argument {key!r} is required and must be a non-empty string")
    if len(value) > max_len:
        raise ToolError(f"argument {key!r} is too long ({len(value)} > {max_len} characters)")
    return value


def opt_int(args: Json, key: str, default: int, lo: int, hi: int) -> int:
    """An optional integer in `[lo, hi]`; absent or null means `default`."""
    value = args.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        raise ToolError(f"argument {key!r} must be an integer between {lo} and {hi}")
    if not lo <= int(value) <= hi:
        raise ToolError(f"argument {key!r} must be between {lo} and {hi}, got {value}")
    return int(value)


def opt_float(args: Json, key: str, default: float, lo: float, hi: float) -> float:
    """An optional number in `[lo, hi]`; absent or null means `default`."""
    value = args.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ToolError(f"argument {key!r} must be a number between {lo:g} and {hi:g}")
    if not lo <= float(value) <= hi:
        raise ToolError(f"argument {key!r} must be between {lo:g} and {hi:g}, got {value}")
    return float(value)


def num_list(args: Json, key: str, length: int) -> list[float]:
    """A required list of exactly `length` numbers."""
    value = args.get(key)
    if not isinstance(value, list) or len(value) != length:
        raise ToolError(f"argument {key!r} must be a list of {length} numbers")
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value):
        raise ToolError(f"argument {key!r} must be a list of {length} numbers")
    return [float(v) for v in value]
