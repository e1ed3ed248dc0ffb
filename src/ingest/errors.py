"""Failures as one line each (commands/explain.py adds, for the command line, the fix)."""

from __future__ import annotations


def flat(err: BaseException) -> str:
    """The message on one line (YAML's and DuckDB's span several)."""
    return " ".join(str(err).split())


def one_line(err: BaseException) -> str:
    """`Type: message` on one line."""
    text = flat(err)
    return f"{type(err).__name__}: {text}" if text else type(err).__name__
