"""Quoting for the SQL the hub builds as text: identifiers and string literals."""

from __future__ import annotations

from pathlib import Path


def ident(name: str) -> str:
    """A quoted identifier."""
    return '"' + name.replace('"', '""') + '"'


def literal(value: str | Path) -> str:
    """A SQL string literal."""
    return "'" + str(value).replace("'", "''") + "'"
