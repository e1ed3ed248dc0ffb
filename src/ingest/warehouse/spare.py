"""The warehouse before the one in use, kept as `warehouse/spare.duckdb` for the next
incremental build to write into instead of a copy of the one in use: copying a
10M-event warehouse took 6-27 s of every increment. The spare is a build behind; its
incremental models catch up from their own watermarks, as after a skipped build
(docs/architecture.md, "The spare warehouse")."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

from ingest.sessions import connect, one
from ingest.sql import literal
from ingest.warehouse.verification import TABLE as VERIFICATION

# builds whose rows an increment may continue: every row derived as known when it ran
CONTINUABLE = ("incremental", "full refresh")


def spare_path(current: Path) -> Path:
    return current.with_name("spare.duckdb")


def keep_as_spare(current: Path) -> None:
    """Before `current` is replaced: its file becomes the spare (a second name for it;
    readers of `current` keep theirs). The spare it replaces is removed."""
    spare = spare_path(current)
    spare.unlink(missing_ok=True)
    if current.exists():
        os.link(current, spare)


def take_spare(current: Path, work: Path, fingerprint: str) -> str | None:
    """Move the spare to `work` for an incremental build on it, carrying over the last
    comparison with a full refresh from `current` (ingest.warehouse.verification);
    returns None then, else why not (and leaves `work` absent).

    Never a file someone else has: one with another name (the warehouse in use itself,
    after a switch cut short, or a publish's pin of it) or open in another process."""
    from ingest.warehouse.runner import read_state

    spare = spare_path(current)
    if not spare.exists():
        return "no spare warehouse"
    if spare.stat().st_nlink != 1:
        return "the spare warehouse has another name (in use or pinned)"
    # under its new name no reader can open it any more
    os.replace(spare, work)
    try:
        con = connect(work)
    except duckdb.Error:
        work.unlink()
        return "the spare warehouse is open in another process"
    try:
        state = read_state(con)
        current_con = connect(current, read_only=True)
        try:
            base = read_state(current_con)
        finally:
            current_con.close()
        why = (
            "the spare warehouse does not say how it was built"
            if state is None or base is None
            else "the spare warehouse derives from other code or configuration"
            if state.fingerprint != fingerprint
            else "the spare warehouse or the one in use was not built as known when it ran"
            if state.mode not in CONTINUABLE or base.mode not in CONTINUABLE
            else None
        )
        if why is None:
            _carry_verification(con, current)
    finally:
        con.close()
    if why is not None:
        work.unlink()
    return why


def _carry_verification(con: duckdb.DuckDBPyConnection, current: Path) -> None:
    """The last comparison with a full refresh is the warehouse in use's, not the spare's
    older one (an increment not compared keeps it)."""
    con.execute(f"ATTACH {literal(str(current))} AS in_use (READ_ONLY)")
    try:
        kept = one(
            con.execute(
                "SELECT count(*) FROM duckdb_tables() WHERE database_name = 'in_use' "
                "AND schema_name = 'state' AND table_name = 'verification'"
            )
        )[0]
        con.execute(f"DROP TABLE IF EXISTS {VERIFICATION}")
        if kept:
            con.execute("CREATE SCHEMA IF NOT EXISTS state")
            con.execute(f"CREATE TABLE {VERIFICATION} AS SELECT * FROM in_use.{VERIFICATION}")
    finally:
        con.execute("DETACH in_use")
