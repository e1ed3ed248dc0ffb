"""Failures as one line each: what failed and, where the hub knows it, the fix."""

from __future__ import annotations


def one_line(err: BaseException) -> str:
    """`Type: first line of the message` (DuckDB's messages go on with context lines)."""
    lines = str(err).strip().splitlines()
    return f"{type(err).__name__}: {lines[0]}" if lines else type(err).__name__
