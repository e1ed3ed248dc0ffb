"""`peaceops compact`: merge each feed's small event files (same events, same ids)."""

from __future__ import annotations

import click

from ingest.commands import options


@click.command("compact")
@click.option(
    "--feed", "feed_id", metavar="ID", help="Only this feed (default: every feed in the log)."
)
@click.option(
    "--min-files",
    default=2,
    show_default=True,
    help="Compact a feed with at least this many files.",
)
@options.lock_timeout
def command(feed_id: str | None, min_files: int, lock_timeout: float | None) -> None:
    """Compact the event log: one file per feed instead of one per load.

    Every event and its id is kept; the switch is one atomic commit, so readers
    see the old files or the new one, never both or neither.
    """
    from ingest.log.eventlog import EventLog
    from ingest.paths import data_dir

    log = EventLog(data_dir())
    feeds = [feed_id] if feed_id else sorted({c.feed_id for c in log.commits()})
    for fid in feeds:
        before = len(log.live_files(fid))
        commit = log.compact(fid, min_files=min_files, lock_timeout=lock_timeout)
        if commit is None:
            click.echo(f"{fid}: {before} file(s), nothing to compact")
        else:
            click.echo(f"{fid}: {len(commit.removes)} files -> 1 ({commit.load_id})")
