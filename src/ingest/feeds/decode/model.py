"""The shapes decoders return (docs/architecture.md, "Decoders")."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import pyarrow as pa

# Where a record sits in its payload. The name holds a control character, which
# `unique_names` removes from every column name a payload gives: no agency's own
# column (even one called "_pos") can collide with it.
POS = "\x1fpos"
_CONTROL = dict.fromkeys([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F])


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
    # Rows with no value at all (only delimiters, or empty sheet rows): not records,
    # skipped by every decoder and counted here.
    blank_rows: int = 0


def string_table(columns: Mapping[str, Sequence[str | None]], positions: Sequence[str]) -> pa.Table:
    """A table of string columns plus the position column."""
    arrays = {name: pa.array(values, pa.string()) for name, values in columns.items()}
    arrays[POS] = pa.array(positions, pa.string())
    return pa.table(arrays)


def rows_table(rows: Sequence[Mapping[str, str | None]], positions: Sequence[str]) -> pa.Table:
    """Records given as dicts (keys may differ between records) to a string table."""
    keys = ordered_union(r.keys() for r in rows)
    names = unique_names(keys, strip=False)
    return string_table(
        {n: [r.get(k) for r in rows] for n, k in zip(names, keys, strict=True)}, positions
    )


def ordered_union(key_lists: Iterable[Iterable[str]]) -> list[str]:
    seen: dict[str, None] = {}
    for keys in key_lists:
        for k in keys:
            seen.setdefault(k, None)
    return list(seen)


def unique_names(names: Sequence[str], strip: bool = True) -> list[str]:
    """Make column names unique and non-empty: blank → column_<n>, repeats → name_2, ...
    Names differing only in case repeat each other (SQL folds case: `id` and `ID` are one
    column to DuckDB); control characters are dropped. A header's cells are stripped of
    spaces; a JSON document's keys (`strip=False`) are kept as they are."""
    out: list[str] = []
    used: set[str] = set()
    for i, name in enumerate(names, start=1):
        cleaned = name.translate(_CONTROL)
        base = (cleaned.strip() if strip else cleaned) or f"column_{i}"
        candidate, n = base, 1
        while candidate.lower() in used:
            n += 1
            candidate = f"{base}_{n}"
        used.add(candidate.lower())
        out.append(candidate)
    return out
