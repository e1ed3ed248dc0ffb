"""`peaceops ingest`: pull one or all feeds into the event log."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

import click

from ingest.commands import options
from ingest.eventlog import Counts


@click.command("ingest")
@click.option("--feed", "feed_id", metavar="ID", help="Only this feed (default: every feed).")
@click.option(
    "--feeds-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Feed registry (default: $PEACEOPS_FEEDS or ./feeds.yaml).",
)
@click.option(
    "--now",
    type=click.DateTime(formats=["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M%z", "%Y-%m-%d"]),
    help="Record the load as learnt at this UTC time (replays and backfills).",
)
@options.lock_timeout
@click.option("-v", "--verbose", is_flag=True, help="Log every request and retry.")
def command(
    feed_id: str | None,
    feeds_file: Path | None,
    now: datetime | None,
    lock_timeout: float | None,
    verbose: bool,
) -> None:
    """Pull new records from the agency feeds into the event log.

    Each feed becomes one atomic load (an API's pages a load every
    $PEACEOPS_PAGES_PER_LOAD pages, default 20, so a pull that fails late keeps
    what came before): raw bytes are landed, decoded, turned into events and
    committed together; records that cannot become events go to the quarantine
    with a reason. Prints per feed: records read, events appended, duplicates
    skipped, quarantined, the loads committed. A feed that fails is marked FAILED
    with its reason in one line; the others are still pulled, and the command
    exits 1.
    """
    from rich.console import Console
    from rich.table import Table

    from ingest.paths import data_dir
    from ingest.pipeline import ingest_feed
    from ingest.registry import load_registry, select

    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    console = Console(stderr=True)
    root = data_dir()
    feeds = select(load_registry(feeds_file, root).feeds, feed_id)
    if now is not None and now.tzinfo is None:
        now = now.replace(tzinfo=UTC)

    results = []
    with console.status("") as status:

        def progress(fid: str, counts: Counts) -> None:
            status.update(f"[bold]{fid}[/]: {counts.read:,} records read")

        for feed in feeds:
            status.update(f"[bold]{feed.id}[/]: pulling")
            results.append(
                ingest_feed(feed, root, now=now, progress=progress, lock_timeout=lock_timeout)
            )

    table = Table(title=f"ingest into {root}")
    for col in ("feed", "read", "appended", "duplicates", "quarantined", "committed", "result"):
        table.add_column(col, justify="left" if col in ("feed", "committed", "result") else "right")
    for r in results:
        c = r.counts
        table.add_row(
            r.feed_id,
            *(f"{n:,}" for n in (c.read, c.appended, c.duplicates, c.quarantined)),
            committed(r.loads),
            "[red]FAILED[/]" if r.error else "ok" if r.loads else "nothing new",
        )
    Console().print(table)
    for r in results:
        for note in r.notes:  # files set aside or skipped, empty files, blank rows
            console.print(f"[yellow]{r.feed_id}:[/] {note}", highlight=False, soft_wrap=True)
    failed = [r for r in results if not r.ok]
    for r in failed:
        console.print(
            f"[red]feed {r.feed_id} FAILED:[/] {r.error}", highlight=False, soft_wrap=True
        )
    if failed:
        raise SystemExit(1)


def committed(loads: list[str]) -> str:
    """The loads a feed's run committed (the counts are theirs), for the summary."""
    if not loads:
        return "-"
    return loads[0] if len(loads) == 1 else f"{len(loads)} loads, last {loads[-1]}"
