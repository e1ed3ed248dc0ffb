"""The shapes decoders return (docs/architecture.md, "Decoders")."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import pyarrow as pa

POS = "_pos"


class DecodeError(ValueError):
    """The payload as a whole cannot be read (not a workbook, not a JSON document, ...)."""


@dataclass(frozen=True)
class Reject:
    pos: str  # where in the payload: "row=17", "line=4", "sheet=Oct 2026/row=9", "item=3"
    raw: str  # the raw record as far as it could be read
    reason: str  # reason code: ragged_row, bad_json, not_an_object, ...
    message: str


@dataclass(frozen=True)
class Decoded:
    records: pa.Table  # every column pa.string(), plus POS
    rejects: list[Reject] = field(default_factory=list)
    encoding: str | None = None


def string_table(columns: Mapping[str, Sequence[str | None]], positions: Sequence[str]) -> pa.Table:
    """A table of string columns plus the position column."""
    arrays = {name: pa.array(values, pa.string()) for name, values in columns.items()}
    arrays[POS] = pa.array(positions, pa.string())
    return pa.table(arrays)


def rows_table(rows: Sequence[Mapping[str, str | None]], positions: Sequence[str]) -> pa.Table:
    """Records given as dicts (keys may differ between records) to a string table."""
    names = ordered_union(r.keys() for r in rows)
    return string_table({n: [r.get(n) for r in rows] for n in names}, positions)


def ordered_union(key_lists: Iterable[Iterable[str]]) -> list[str]:
    seen: dict[str, None] = {}
    for keys in key_lists:
        for k in keys:
            seen.setdefault(k, None)
    return list(seen)


def unique_names(names: Sequence[str]) -> list[str]:
    """Make column names unique and non-empty: blank → column_<n>, repeats → name_2, ..."""
    out: list[str] = []
    used: set[str] = set()
    for i, name in enumerate(names, start=1):
        base = name.strip() or f"column_{i}"
        candidate, n = base, 1
        while candidate in used or candidate == POS:
            n += 1
            candidate = f"{base}_{n}"
        used.add(candidate)
        out.append(candidate)
    return out
