"""`peaceops events`: query the committed event log in SQL, read-only by construction.

Analysts type the SQL, so two locks keep it from harming anything. Only queries run
(statements of type SELECT: SELECT, WITH, DESCRIBE, SHOW, SUMMARIZE); COPY, ATTACH,
SET, INSTALL and the like are refused before DuckDB sees them. And the session reads
nothing but the committed files: once the views are defined, external access is off
with only those files allowed, no extension can be installed or loaded, and the
configuration is locked. The first lock is needed because DuckDB lets a session write
to a path it may read (`COPY ... TO '<an allowed file>' (USE_TMP_FILE false)`
truncates it); the second keeps a query from reading /etc, the warehouse or the
network.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    import duckdb

    from ingest.log.eventlog import EventLog

DEFAULT_QUERY = (
    "SELECT feed_id, event_type, count(*) AS events FROM events GROUP BY ALL ORDER BY ALL"
)
ONLY_LOG = "`peaceops events` reads the committed log only (views events and quarantine)"


def refuse_all_but_queries(sql: str) -> None:
    """Raise ClickException unless every statement of `sql` is a query."""
    import duckdb

    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as err:
        raise click.ClickException(str(err)) from None
    for statement in statements:
        if statement.type != duckdb.StatementType.SELECT:
            raise click.ClickException(
                f"{statement.type.name} refused: {ONLY_LOG} and runs queries "
                "(SELECT, WITH, DESCRIBE, SUMMARIZE) only"
            )


def lock_down(con: duckdb.DuckDBPyConnection, readable: list[Path], spill: Path) -> None:
    """From now on `con` reads only `readable` and spills only to `spill`, for good.

    Call after the views are defined: a view binds its files when queried, so they
    must be in allowed_paths; every option must be set before the lock."""
    from ingest.log.eventlog import sql_list
    from ingest.sql import literal

    con.execute(f"SET allowed_paths = {sql_list(readable)}")
    con.execute(f"SET temp_directory = {literal(spill)}")
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")


@contextlib.contextmanager
def log_session(
    log: EventLog,
    feed_id: str | None = None,
    *,
    as_of_load: str | None = None,
    as_of_time: datetime | None = None,
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A locked-down session with the views `events` and `quarantine` over the
    committed log (or one feed), as known at a load or a time."""
    from ingest.log.eventlog import sql_list
    from ingest.sessions import connect

    files = log.live_files(feed_id)
    qfiles = log.quarantine_files(feed_id, retired=False)
    # A large query may spill: to a private folder that goes with the session.
    with tempfile.TemporaryDirectory(prefix="peaceops-events-") as spill:
        con = connect()
        try:
            select = log.select_sql(feed_id, as_of_load=as_of_load, as_of_time=as_of_time)
            con.execute(f"CREATE VIEW events AS {select}")
            if qfiles:
                con.execute(
                    "CREATE VIEW quarantine AS SELECT * FROM "
                    f"read_parquet({sql_list(qfiles)}, hive_partitioning = true)"
                )
            lock_down(con, files + qfiles, Path(spill))
            yield con
        finally:
            con.close()


def run_query(con: duckdb.DuckDBPyConnection, sql: str) -> None:
    import duckdb

    refuse_all_but_queries(sql)
    try:
        con.sql(sql).show(max_rows=200, max_width=200)
    except duckdb.PermissionException as err:
        raise click.ClickException(f"{err}; {ONLY_LOG}") from None
    except duckdb.Error as err:  # duckdb's errors are readable as they are
        raise click.ClickException(str(err)) from None


@click.command("events")
@click.argument("sql", required=False)
@click.option("--feed", "feed_id", metavar="ID", help="Only this feed's events.")
@click.option("--as-of-load", metavar="LOAD_ID", help="The log as it was after this load.")
@click.option(
    "--as-of",
    "as_of",
    type=click.DateTime(formats=["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M%z", "%Y-%m-%d"]),
    help="The log as the hub knew it at this time (its loads known by then: committed, "
    "or back-dated to a time before it).",
)
@click.option("--loads", is_flag=True, help="List the committed loads instead, with their counts.")
def command(
    sql: str | None,
    feed_id: str | None,
    as_of_load: str | None,
    as_of: datetime | None,
    loads: bool,
) -> None:
    """Query the committed event log. SQL sees the views `events` and `quarantine`.

    \b
    Examples:
      peaceops events "SELECT feed_id, event_type, count(*) FROM events GROUP BY ALL"
      peaceops events --feed moi.incidents --as-of 2026-11-05T12:00Z
      peaceops events --loads
    Only committed loads are visible; debris of interrupted loads never is.
    The session is read-only: queries only, over the log's files only.
    """
    from datetime import UTC

    from ingest.log.eventlog import EventLog
    from ingest.settings import Settings

    log = EventLog(Settings.resolve().data_dir)
    if loads:
        for c in log.commits(feed_id):
            n = c.counts
            click.echo(
                f"{c.load_id}  {c.kind:<10} read={n.get('read', 0):,} appended={n.get('appended', 0):,} "
                f"duplicates={n.get('duplicates', 0):,} quarantined={n.get('quarantined', 0):,}"
            )
        return
    if as_of is not None and as_of.tzinfo is None:
        as_of = as_of.replace(tzinfo=UTC)
    with log_session(log, feed_id, as_of_load=as_of_load, as_of_time=as_of) as con:
        run_query(con, sql or DEFAULT_QUERY)
