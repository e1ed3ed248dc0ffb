"""Incremental equals full refresh, checked: a content hash per published mart of an
incremental build, compared with a full refresh of the same snapshot of the log.

A build records the comparison in its warehouse's table `state.verification` (one row
per published mart: rows and content hash of the incremental build and of the full
refresh). A full refresh is its own reference (its rows counted, nothing hashed: its
figures are compared only with themselves); an incremental build compares itself with a
full refresh built beside it (not tested, discarded afterwards) when asked
(`build --verify`) or when the last comparison is older than
`verify_incremental_hours` (expectations/gate.yml); otherwise it keeps the last
comparison (its file is a copy of the last warehouse). The gate fails on any mart
whose hashes differ, so a divergence is caught rather than published; a full refresh
clears it. Why periodic and not every build: docs/architecture.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb

from ingest.sessions import one, rows_and_hash
from ingest.sql import ident
from ingest.warehouse.sharing import SCHEMA, mart_columns

TABLE = "state.verification"
COLUMNS = (
    "build_id VARCHAR, verified_at TIMESTAMPTZ, mart VARCHAR, incremental_rows BIGINT, "
    "incremental_hash VARCHAR, full_rows BIGINT, full_hash VARCHAR"
)


# the digest a full refresh records for itself (own_reference)
OWN = "its own reference"


@dataclass(frozen=True)
class Content:
    rows: int
    # sum of a hash of every row's published columns: independent of row order
    digest: str


def mart_contents(con: duckdb.DuckDBPyConnection) -> dict[str, Content]:
    """Rows and content hash of every published mart of the warehouse: every table of the
    marts schema (each is a published mart, tests/gate/test_sharing.py), whose columns
    are the declared ones (dbt enforces the contracts)."""
    return {
        name: Content(*rows_and_hash(con, f"{SCHEMA}.{ident(name)}", [c for c, _ in typed]))
        for name, typed in mart_columns(con).items()
    }


def own_reference(con: duckdb.DuckDBPyConnection) -> dict[str, Content]:
    """The figures of a full refresh, its own reference: compared only with themselves, so
    rows are counted and nothing is hashed (hashing every mart took 9 s of a 10M build)."""
    return {
        name: Content(one(con.execute(f"SELECT count(*) FROM {SCHEMA}.{ident(name)}"))[0], OWN)
        for name in mart_columns(con)
    }


def write(
    con: duckdb.DuckDBPyConnection,
    build_id: str,
    at: datetime,
    incremental: dict[str, Content],
    full: dict[str, Content],
) -> None:
    con.execute("CREATE SCHEMA IF NOT EXISTS state")
    con.execute(f"CREATE OR REPLACE TABLE {TABLE} ({COLUMNS})")
    missing = Content(0, "absent")
    for mart in sorted(set(incremental) | set(full)):
        inc, ref = incremental.get(mart, missing), full.get(mart, missing)
        con.execute(
            f"INSERT INTO {TABLE} VALUES (?, ?, ?, ?, ?, ?, ?)",
            [build_id, at, mart, inc.rows, inc.digest, ref.rows, ref.digest],
        )


def _exists(con: duckdb.DuckDBPyConnection) -> bool:
    return bool(
        one(
            con.execute(
                "SELECT count(*) FROM duckdb_tables() "
                "WHERE schema_name = 'state' AND table_name = 'verification'"
            )
        )[0]
    )


def last_verified(con: duckdb.DuckDBPyConnection) -> datetime | None:
    """When the warehouse's content was last compared with a full refresh (None: never)."""
    if not _exists(con):
        return None
    return one(con.execute(f"SELECT max(verified_at) FROM {TABLE}"))[0]


def divergences(con: duckdb.DuckDBPyConnection) -> list[str] | None:
    """One line per mart whose incremental content differs from the full refresh's, as
    the last comparison found; None when the warehouse was never compared."""
    if not _exists(con):
        return None
    rows = con.execute(
        f"SELECT mart, incremental_rows, full_rows, build_id FROM {TABLE} "
        "WHERE incremental_hash <> full_hash ORDER BY mart"
    ).fetchall()
    return [
        f"{mart}: {inc:,} rows built incrementally, {full:,} by a full refresh of the same "
        f"log (build {build}), and other content"
        if inc != full
        else f"{mart}: the same {inc:,} rows in number but other content than a full refresh "
        f"of the same log (build {build})"
        for mart, inc, full, build in rows
    ]
