"""`peaceops ingest`: pull one or all feeds into the event log."""

from __future__ import annotations

import contextlib
import json
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ingest.commands import options
from ingest.log.eventlog import Counts

if TYPE_CHECKING:
    from ingest.feeds.pipeline import FeedResult


@click.command("ingest")
@click.option("--feed", "feed_id", metavar="ID", help="Only this feed (default: every feed).")
@click.option(
    "--feeds-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Feed registry (default: $PEACEOPS_FEEDS, else ./feeds.yaml, else the project's).",
)
@click.option(
    "--now",
    type=click.DateTime(formats=["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M%z", "%Y-%m-%d"]),
    help="Record the load as learnt at this UTC time (replays and backfills).",
)
@options.lock_timeout
@click.option("-v", "--verbose", is_flag=True, help="Log every request and retry.")
@click.option(
    "--json", "as_json", is_flag=True, help="Print machine-readable JSON instead of the table."
)
def command(
    feed_id: str | None,
    feeds_file: Path | None,
    now: datetime | None,
    lock_timeout: float | None,
    verbose: bool,
    as_json: bool,
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

    from ingest import stages
    from ingest.settings import Settings

    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    console = Console(stderr=True)
    settings = Settings.resolve(feeds_file=feeds_file)
    root = settings.data_dir
    if now is not None and now.tzinfo is None:
        now = now.replace(tzinfo=UTC)

    # no spinner under --json: a script reading stderr wants lines, not animation
    with console.status("") if not as_json else contextlib.nullcontext() as status:

        def progress(fid: str, counts: Counts) -> None:
            if status is not None:
                status.update(f"[bold]{fid}[/]: {counts.read:,} records read")

        def pulling(fid: str) -> None:
            if status is not None:
                status.update(f"[bold]{fid}[/]: pulling")

        results = stages.ingest(
            settings,
            feed_id,
            now=now,
            progress=progress,
            on_feed=pulling,
            lock_timeout=lock_timeout,
        )

    failed = [r for r in results if not r.ok]
    if as_json:
        report = {"data_dir": str(root), "ok": not failed, "feeds": [feed_json(r) for r in results]}
        click.echo(json.dumps(report, indent=1, default=str))
        if failed:
            raise SystemExit(1)
        return
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
    for r in failed:
        console.print(
            f"[red]feed {r.feed_id} FAILED:[/] {r.error}", highlight=False, soft_wrap=True
        )
    if failed:
        raise SystemExit(1)


def feed_json(result: FeedResult) -> dict[str, Any]:
    """One feed's run for `ingest --json` and `run --json`: its counts, its loads and why
    it failed."""
    c = result.counts
    return {
        "feed_id": result.feed_id,
        "ok": result.ok,
        "read": c.read,
        "appended": c.appended,
        "duplicates": c.duplicates,
        "quarantined": c.quarantined,
        "loads": result.loads,
        "error": result.error,
        "notes": result.notes,
    }


def committed(loads: list[str]) -> str:
    """The loads a feed's run committed (the counts are theirs), for the summary."""
    if not loads:
        return "-"
    return loads[0] if len(loads) == 1 else f"{len(loads)} loads, last {loads[-1]}"
