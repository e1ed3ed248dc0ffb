"""HXL: CSV whose hashtag row (e.g. `#adm1+code`) names the columns.

The hashtag row may sit below any number of human header rows and is found the
way the HXL standard describes it: the first row, within the first 25, whose
non-blank cells are all valid hashtag specs. Columns are named by their hashtag
with attributes, normalised (lower case, no spaces, attributes in the order
sent); untagged columns keep their human header. As in the standard, a row
shorter than the hashtag row has empty trailing cells.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping, Sequence
from typing import Any

from ingest.feeds.decode.delimited import sniff_delimiter
from ingest.feeds.decode.model import Decoded, DecodeError, Reject, string_table, unique_names
from ingest.feeds.decode.text import to_text

SEARCH_ROWS = 25
_HASHTAG = re.compile(r"^\s*#[A-Za-z][A-Za-z0-9_]*(\s*\+\s*[A-Za-z][A-Za-z0-9_]*)*\s*$")


def is_hashtag(cell: str) -> bool:
    return bool(_HASHTAG.match(cell))


def normalise_hashtag(cell: str) -> str:
    return re.sub(r"\s+", "", cell).lower()


def find_hashtag_row(rows: Sequence[Sequence[str]]) -> int | None:
    """Index of the hashtag row among the first rows, or None."""
    for i, row in enumerate(rows[:SEARCH_ROWS]):
        cells = [c for c in row if c.strip()]
        if cells and all(is_hashtag(c) for c in cells):
            return i
    return None


def column_names(tags: Sequence[str], above: Sequence[Sequence[str]]) -> list[str]:
    """Hashtags; an untagged column takes the nearest human header above it."""
    names = []
    for i, tag in enumerate(tags):
        if tag.strip():
            names.append(normalise_hashtag(tag))
            continue
        human = (r[i].strip() for r in reversed(above) if i < len(r))
        names.append(next((h for h in human if h), ""))
    return unique_names(names)


def decode_hxl(data: bytes, options: Mapping[str, Any]) -> Decoded:
    text, encoding = to_text(data, options.get("encoding"))
    if not text.strip():
        raise DecodeError("empty file: no HXL hashtag row")
    delim = options.get("delimiter") or sniff_delimiter(text.splitlines()[0])
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delim))
    tag_index = find_hashtag_row(rows)
    if tag_index is None:
        raise DecodeError(f"no HXL hashtag row in the first {SEARCH_ROWS} rows")
    names = column_names(rows[tag_index], rows[:tag_index])
    width = len(names)
    records: list[list[str | None]] = []
    positions: list[str] = []
    rejects: list[Reject] = []
    blank = 0
    for number, row in enumerate(rows[tag_index + 1 :], start=tag_index + 2):
        if not row:
            continue  # an empty line is no row at all (as in the CSV decoder)
        if not any(c.strip() for c in row):
            blank += 1
            continue
        pos = f"row={number}"
        if len(row) > width and any(c.strip() for c in row[width:]):
            raw = io.StringIO()
            csv.writer(raw, delimiter=delim).writerow(row)
            rejects.append(
                Reject(
                    pos,
                    raw.getvalue().rstrip("\r\n"),
                    "ragged_row",
                    f"{len(row)} fields where the hashtag row has {width}",
                )
            )
            continue
        cells = row + [""] * (width - len(row))
        records.append([v if v != "" else None for v in cells[:width]])
        positions.append(pos)
    columns = {n: [r[i] for r in records] for i, n in enumerate(names)}
    return Decoded(string_table(columns, positions), rejects, encoding, blank)
