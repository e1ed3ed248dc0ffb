"""XLSX workbooks: every sheet, with one- or two-row headers whose group cells are merged.

A sheet with an HXL hashtag row (within its first rows, under any human headers)
is named by its hashtags, as an HXL CSV is (ingest.feeds.decode.hxl).

Agencies' workbooks put a merged group cell ("Distribution") over several
sub-headers ("Dist. ID", "Date"); such columns are named "Distribution / Date".
A header cell merged down over both header rows is named once. Cells keep what
the sheet shows: numbers without a spurious ".0", dates in ISO 8601, formulas
as the value the spreadsheet program cached (never evaluated here; a workbook
written by a script without cached values shows such cells empty).
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from datetime import date, datetime, time
from typing import Any

from ingest.feeds.decode.hxl import SEARCH_ROWS, column_names, find_hashtag_row
from ingest.feeds.decode.model import Decoded, DecodeError, rows_table, unique_names

Cell = Any
Merge = tuple[tuple[int, int], tuple[int, int]]


def cell_text(value: Cell) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return value.isoformat(sep="T") if value.time() != time(0) else value.date().isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)


def fill_merges(rows: list[list[Cell]], merges: Sequence[Merge]) -> list[list[Cell]]:
    """Copy each merged range's top-left value into every cell of the range."""
    for (r1, c1), (r2, c2) in merges:
        if r1 >= len(rows) or c1 >= len(rows[r1]):
            continue
        value = rows[r1][c1]
        for r in range(r1, min(r2, len(rows) - 1) + 1):
            for c in range(c1, min(c2, len(rows[r]) - 1) + 1):
                rows[r][c] = value
    return rows


def header_depth(merges: Sequence[Merge]) -> int:
    """Two header rows when a group cell of the first row is merged across columns."""
    return 2 if any(r1 == 0 and c2 > c1 for (r1, c1), (_, c2) in merges) else 1


def header_names(header: Sequence[Sequence[Cell]]) -> list[str]:
    width = max(len(r) for r in header)
    names = []
    for c in range(width):
        parts: list[str] = []
        for row in header:
            text = cell_text(row[c]) if c < len(row) else None
            if text and (not parts or parts[-1] != text.strip()):
                parts.append(text.strip())
        names.append(" / ".join(parts))
    return unique_names(names)


def sheet_records(
    name: str, rows: list[list[Cell]], merges: Sequence[Merge], depth: int | None
) -> tuple[list[dict[str, str | None]], list[str], int]:
    """The sheet's records, their positions and how many blank rows it had."""
    if not rows:
        return [], [], 0
    texts = [[cell_text(v) or "" for v in row] for row in rows[:SEARCH_ROWS]]
    tag_index = find_hashtag_row(texts) if depth is None else None
    if tag_index is not None:
        # an HXL sheet: the hashtag row names the columns, as in an HXL CSV
        names = column_names(texts[tag_index], texts[:tag_index])
        depth = tag_index + 1
    else:
        depth = depth or header_depth(merges)
        rows = fill_merges([list(r) for r in rows], [m for m in merges if m[0][0] < depth])
        names = header_names(rows[:depth])
    records, positions, blank = [], [], 0
    for number, row in enumerate(rows[depth:], start=depth + 1):
        values = [cell_text(v) for v in row[: len(names)]]
        if not any(values):
            blank += 1  # blank rows separate blocks in hand-made sheets; they hold no record
            continue
        records.append(dict(zip(names, values, strict=False)))
        positions.append(f"sheet={name}/row={number}")
    return records, positions, blank


def decode_xlsx(data: bytes, options: Mapping[str, Any]) -> Decoded:
    from python_calamine import CalamineWorkbook

    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
    except Exception as err:  # calamine raises its own types for every kind of bad file
        raise DecodeError(f"not a readable workbook: {err}") from None
    wanted = options.get("sheets")
    records: list[dict[str, str | None]] = []
    positions: list[str] = []
    blank = 0
    for name in book.sheet_names:
        if wanted and name not in wanted:
            continue
        sheet = book.get_sheet_by_name(name)
        rows = sheet.to_python(skip_empty_area=False)
        merges = sheet.merged_cell_ranges or []
        recs, pos, blanks = sheet_records(name, rows, merges, options.get("header_rows"))
        records += recs
        positions += pos
        blank += blanks
    return Decoded(rows_table(records, positions), [], None, blank)
