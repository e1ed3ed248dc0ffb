"""`peaceops events`: query the committed event log in SQL."""

from __future__ import annotations

from datetime import datetime

import click


@click.command("events")
@click.argument("sql", required=False)
@click.option("--feed", "feed_id", metavar="ID", help="Only this feed's events.")
@click.option("--as-of-load", metavar="LOAD_ID", help="The log as it was after this load.")
@click.option(
    "--as-of",
    "as_of",
    type=click.DateTime(formats=["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M%z", "%Y-%m-%d"]),
    help="The log as the hub knew it at this time (recorded_at <= it).",
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
    """
    from datetime import UTC

    from ingest.eventlog import EventLog, connect, sql_list
    from ingest.paths import data_dir

    log = EventLog(data_dir())
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
    con = connect()
    con.execute(
        f"CREATE VIEW events AS {log.select_sql(feed_id, as_of_load=as_of_load, as_of_time=as_of)}"
    )
    qfiles = log.quarantine_files(feed_id)
    if qfiles:
        con.execute(
            f"CREATE VIEW quarantine AS SELECT * FROM read_parquet({sql_list(qfiles)}, hive_partitioning = true)"
        )
    query = (
        sql
        or "SELECT feed_id, event_type, count(*) AS events FROM events GROUP BY ALL ORDER BY ALL"
    )
    try:
        con.sql(query).show(max_rows=200, max_width=200)
    except Exception as err:  # duckdb's errors are readable as they are
        raise click.ClickException(str(err)) from None
