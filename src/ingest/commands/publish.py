"""`peaceops publish`: check the warehouse, then publish it as a new version."""

from __future__ import annotations

import click


@click.command("publish")
@click.option(
    "--keep",
    type=int,
    default=None,
    help="Published versions to keep (default: keep_versions in expectations/gate.yml).",
)
def command(keep: int | None) -> None:
    """Run the quality gate and, only if it passes, publish data/published/<version>/
    (public, partners, mission: unified.duckdb, Parquet, HXL CSV, manifest.json) and
    switch data/published/current to it atomically. A failed gate publishes nothing,
    leaves `current` as it was and exits 1. A warehouse built --as-of a past moment is
    published as a historical version: `current` stays where it was.

    While a build runs, publish waits for it (up to PEACEOPS_LOCK_TIMEOUT seconds,
    saying whom it waits for) and then checks and publishes what it left.
    """
    from ingest.gate import run_gate
    from ingest.gate.summary import format_summary
    from ingest.paths import data_dir
    from ingest.publish import publish
    from ingest.warehouse import build_lock

    root = data_dir()
    with build_lock(root):
        result = run_gate(root)
        click.echo(format_summary(result))
        if not result.passed:
            click.echo("nothing published: the gate failed; data/published/current is unchanged")
            raise SystemExit(1)
        version = publish(root, result, keep=keep)
    if result.historical:
        click.echo(
            f"published {version}: a historical version, as known at {result.as_of}; "
            f"{root / 'published' / 'current'} is unchanged"
        )
    else:
        click.echo(f"published {version} -> {root / 'published' / 'current'}")
