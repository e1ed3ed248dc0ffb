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
    from ingest import stages
    from ingest.settings import Settings

    done = stages.compact(
        Settings.resolve(),
        [feed_id] if feed_id else None,
        min_files=min_files,
        lock_timeout=lock_timeout,
    )
    for c in done:
        if c.error:
            click.echo(f"{c.feed_id}: FAILED: {c.error}", err=True)
        elif c.commit is None:
            click.echo(f"{c.feed_id}: {c.files_before} file(s), nothing to compact")
        else:
            click.echo(f"{c.feed_id}: {len(c.commit.removes)} files -> 1 ({c.commit.load_id})")
    if any(c.error for c in done):
        raise SystemExit(1)
