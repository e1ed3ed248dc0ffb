"""`peaceops replay`: re-derive a feed's events from its landed payloads."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import click

from ingest.commands import options


@click.command("replay")
@click.option("--feed", "feed_id", metavar="ID", required=True, help="The feed to re-derive.")
@click.option(
    "--feeds-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Feed registry (default: $PEACEOPS_FEEDS, else ./feeds.yaml, else the project's).",
)
@click.option("--json", "as_json", is_flag=True, help="The result as JSON, for scripts.")
@options.lock_timeout
def command(
    feed_id: str, feeds_file: Path | None, as_json: bool, lock_timeout: float | None
) -> None:
    """Re-derive FEED's events from every payload it landed, under feeds.yaml as it is now.

    For a mapping fix: a renamed column, a time format, a record key. The replay is one
    new load that retires the feed's earlier loads (nothing is deleted: a build as of
    an earlier moment still sees them). Then run `peaceops build`, which sees the
    changed contract and rebuilds the warehouse in full.
    """
    from ingest import stages
    from ingest.settings import Settings

    result = stages.replay(
        Settings.resolve(feeds_file=feeds_file), feed_id, lock_timeout=lock_timeout
    )
    if as_json:
        click.echo(json.dumps({**asdict(result), "ok": result.ok}, indent=1, default=str))
    else:
        c = result.counts
        click.echo(
            f"{feed_id}: read {c.read:,}, appended {c.appended:,}, duplicates {c.duplicates:,}, "
            f"quarantined {c.quarantined:,}; load {result.load_id or 'none'}"
        )
        for note in result.notes:
            click.echo(f"  {note}")
    if not result.ok:
        raise SystemExit(1)
