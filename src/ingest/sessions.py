"""The hub's DuckDB sessions: every connection of the hub (ingest, build, gate, publish,
digest, the bench) is opened here, so each has the same time zone, memory limit and
extension policy (tests/eventlog/test_sessions.py finds any opened elsewhere)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

from ingest.settings import Settings
from ingest.sql import ident

# DuckDB otherwise installs and loads a known extension on first use (httpfs for an
# https:// path): a download from outside, and code the hub never chose to run.
NO_EXTENSION_AUTOLOAD: dict[str, Any] = {
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
}


def connect(
    database: str | Path = ":memory:", *, read_only: bool = False
) -> duckdb.DuckDBPyConnection:
    """A DuckDB session (in memory unless `database` names a file) in UTC, so naive times
    mean UTC everywhere, within the hub's memory limit: DuckDB's own default is 80% of
    the machine, and a 10M-event gate or publish would take it (the dbt profile reads the
    same setting). No extension is installed or loaded behind the hub's back."""
    con = duckdb.connect(str(database), read_only=read_only, config=NO_EXTENSION_AUTOLOAD)
    con.execute(f"SET memory_limit = '{Settings.resolve().memory_limit}'")
    return _session(con)


def cursor(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """A second session on `con`'s database (to stream a result while `con` does other
    work), set as `connect` sets its own: a cursor starts from DuckDB's defaults, the
    machine's time zone among them."""
    return _session(con.cursor())


def _session(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    con.execute("SET TimeZone = 'UTC'")
    # A long load would otherwise draw a progress bar on stdout, which is the CLI's output.
    con.execute("SET enable_progress_bar = false")
    return con


def one(result: duckdb.DuckDBPyConnection) -> tuple[Any, ...]:
    """The row of a query that always returns one (an aggregate, a pragma)."""
    row = result.fetchone()
    assert row is not None, "a query that always returns one row returned none"
    return row


def rows_and_hash(
    con: duckdb.DuckDBPyConnection, relation: str, columns: list[str]
) -> tuple[int, str]:
    """Rows of `relation` and the sum of a hash of each row's `columns` (as text): equal
    pairs, equal values in those columns, order aside."""
    rows, (total,) = rows_and_hashes(con, relation, [columns])
    return rows, total


def rows_and_hashes(
    con: duckdb.DuckDBPyConnection, relation: str, column_sets: list[list[str]]
) -> tuple[int, list[str]]:
    """Rows of `relation` and, per list of columns, the sum `rows_and_hash` gives: one
    scan for all of them."""
    sums = [
        f"CAST(coalesce(sum(hash({', '.join(ident(c) for c in columns)})), 0) AS VARCHAR)"
        if columns
        else "CAST(0 AS VARCHAR)"
        for columns in column_sets
    ]
    rows, *totals = one(con.execute(f"SELECT count(*), {', '.join(sums)} FROM {relation}"))
    return rows, list(totals)
