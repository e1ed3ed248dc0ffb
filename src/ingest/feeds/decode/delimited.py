"""Delimited text (CSV, semicolon CSV, TSV): pyarrow's multi-threaded reader, all columns text."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from ingest.feeds.decode.model import POS, Decoded, Reject, unique_names
from ingest.feeds.decode.text import to_utf8

DELIMITERS = (",", ";", "\t", "|")
# pyarrow parses blocks in parallel but cannot parse a row longer than a block: a
# huge cell (a pasted report) makes the decoder retry with a block as large as the file.
BLOCK_SIZE = 1 << 23


def sniff_delimiter(header: str) -> str:
    """The candidate delimiter that splits the header line into most fields."""
    counts = {d: len(next(csv.reader([header], delimiter=d), [])) for d in DELIMITERS}
    return max(DELIMITERS, key=lambda d: (counts[d], -DELIMITERS.index(d)))


def first_row(data: bytes, delimiter: str | None) -> tuple[list[str], int, str]:
    """The header row, how many physical lines it spans, and the delimiter."""
    head = data[: 1 << 20].decode("utf-8", "replace")
    first_line = head.splitlines()[0] if head else ""
    delim = delimiter or sniff_delimiter(first_line)
    reader = csv.reader(io.StringIO(head, newline=""), delimiter=delim)
    header = next(reader, [])
    # A quoted header cell may hold line breaks: pyarrow skips physical lines.
    lines = 1 + sum(cell.count("\n") for cell in header)
    return header, lines, delim


def decode_csv(data: bytes, options: Mapping[str, Any]) -> Decoded:
    utf8, encoding = to_utf8(data, options.get("encoding"))
    if not utf8 or utf8.isspace():  # strip() would copy the whole payload
        return Decoded(pa.table({POS: pa.array([], pa.string())}), [], encoding)
    header, header_lines, delim = first_row(utf8, options.get("delimiter"))
    names = unique_names(header)
    rejects: list[Reject] = []

    def invalid(row: pacsv.InvalidRow) -> str:
        rejects.append(
            Reject(
                pos=f"bad_row={len(rejects) + 1}",
                raw=row.text,
                reason="ragged_row",
                message=f"{row.actual_columns} fields where the header has {row.expected_columns}",
            )
        )
        return "skip"

    def read(block_size: int) -> pa.Table:
        rejects.clear()
        return pacsv.read_csv(
            # Arrow reads the bytes in place; through a Python file object it copied
            # them (a 10M-row file peaked 0.9 GB higher) and held the GIL to do so.
            pa.BufferReader(utf8),
            read_options=pacsv.ReadOptions(
                column_names=names, skip_rows=header_lines, block_size=block_size
            ),
            parse_options=pacsv.ParseOptions(
                delimiter=delim, newlines_in_values=True, invalid_row_handler=invalid
            ),
            convert_options=pacsv.ConvertOptions(
                column_types={n: pa.string() for n in names},
                strings_can_be_null=True,
                null_values=[""],
            ),
        )

    try:
        table = read(BLOCK_SIZE)
    except pa.ArrowInvalid as err:
        if "straddling" not in str(err):
            raise
        table = read(len(utf8) + 1)
    table = table.append_column(POS, row_positions(table.num_rows))
    records, blank = drop_blank_rows(table)
    return Decoded(records, rejects, encoding, blank)


def drop_blank_rows(table: pa.Table) -> tuple[pa.Table, int]:
    """The rows with at least one value, and how many had none (a sheet exported with
    thousands of `,,,,` rows). Row positions are kept, so lineage stays exact."""
    columns = [c for c in table.column_names if c != POS]
    if not columns or table.num_rows == 0:
        return table, 0
    has_value = pc.invert(pc.is_null(table.column(columns[0])))
    for name in columns[1:]:
        has_value = pc.or_(has_value, pc.invert(pc.is_null(table.column(name))))
    kept = pc.sum(has_value).as_py() or 0
    if kept == table.num_rows:
        return table, 0
    return table.filter(has_value), table.num_rows - kept


POSITIONS_STEP = 1_000_000


def row_positions(n: int) -> pa.ChunkedArray:
    """ "row=1" ... "row=n", built in Arrow (a Python string per row costs seconds at 1M),
    a million at a time: the whole column's intermediates at once took 0.3 GB at 10M."""
    firsts = range(1, n + 1, POSITIONS_STEP)
    return pa.chunked_array(
        [_positions(first, min(n, first + POSITIONS_STEP - 1)) for first in firsts], pa.string()
    )


def _positions(first: int, last: int) -> pa.Array:
    numbers = pa.array(np.arange(first, last + 1))
    return pc.utf8_replace_slice(pc.cast(numbers, pa.string()), 0, 0, "row=")
