"""`peaceops status`: feed freshness, quarantine counts and the published version."""

from __future__ import annotations

import json

import click


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    hours = seconds / 3600
    return f"{hours:.1f} h" if hours < 48 else f"{hours / 24:.1f} d"


@click.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def command(as_json: bool) -> None:
    """Show each feed's last pull, last event, lag against its schedule and
    quarantine count, and the current published version with its gate result.

    A feed is stale when its last successful pull is older than two schedule
    intervals. Exit code 0 even when feeds are stale: this command reports.
    """
    from rich.console import Console
    from rich.table import Table

    from ingest.serve.status import status
    from ingest.settings import Settings

    settings = Settings.resolve()
    root = settings.data_dir
    feeds = list(settings.registry.feeds)
    report = status(root, feeds)
    if as_json:
        click.echo(json.dumps(report, indent=1, default=str))
        return
    table = Table(title=f"feeds ({root})")
    for col in (
        "feed",
        "schedule",
        "last pull",
        "last events learnt",
        "lag",
        "events",
        "quarantined",
        "state",
    ):
        table.add_column(col)
    for f in report["feeds"]:
        if f["last_pull_ok"] is False:
            state = f"[red]failing[/]: {f['last_error']}"
        else:
            state = "[yellow]stale[/]" if f["is_stale"] else "[green]fresh[/]"
        table.add_row(
            f["feed_id"],
            f["schedule"],
            (f["last_pull_at"] or "never")[:19],
            (f["last_event_recorded_at"] or "-")[:19],
            _age(f["lag_seconds"]),
            f"{f['events']:,}",
            f"{f['quarantined']:,}",
            state,
        )
    console = Console()
    console.print(table)
    for f in report["feeds"]:
        for note in f["last_notes"]:
            console.print(f"[yellow]{f['feed_id']}:[/] {note}", highlight=False, soft_wrap=True)
    held = (report["published"] or {}).get("held_back_feeds") or {}
    for feed_id, reason in held.items():
        console.print(f"[yellow]held back from the published version:[/] {feed_id}: {reason}")
    pub = report["published"]
    if pub is None:
        console.print("published: [yellow]nothing published yet[/]")
    else:
        gate = pub.get("gate", {})
        verdict = "passed" if gate.get("success", gate.get("passed")) else "see manifest"
        console.print(
            f"published: version {pub.get('version')} as of {pub.get('as_of')} (gate {verdict})"
        )
    fresh = report["freshness"]
    if fresh["published_after_commit_s"] is not None:
        console.print(
            f"freshness: this version was published {fresh['published_after_commit_s']:,.0f} s "
            "after its newest load's commit"
        )
    if fresh["bench"]:
        b = fresh["bench"]
        console.print(
            f"freshness (bench, {b['measured_at'][:16]}): a report dropped into an inbox was "
            f"published {b['seconds']:.0f} s later on a warehouse of {b['events']:,} events "
            f"(target {b['target_s']} s at 10M)"
        )
    for path, reason in report["unreadable_commits"].items():
        console.print(
            f"[yellow]skipped[/] {path}: {reason}; move it out of the log",
            highlight=False,
            soft_wrap=True,
        )
