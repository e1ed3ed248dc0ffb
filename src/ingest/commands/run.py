"""`peaceops run`: ingest + build + check + publish, one stage after the other."""

from __future__ import annotations

import json

import click


@click.command("run")
@click.option("--keep", type=int, default=None, help="Published versions to keep.")
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Also print a machine-readable summary on stdout (progress stays on stderr).",
)
def command(keep: int | None, as_json: bool) -> None:
    """Ingest every feed, build the warehouse, check it and publish it.

    A feed that fails is reported and the others are built and published, as under
    Airflow; a failed build or check stops the run (a failed check publishes
    nothing). Exits 1 if anything failed.
    """
    from ingest import stages
    from ingest.settings import Settings

    summary = stages.run(Settings.resolve(keep_versions=keep))
    if as_json:
        click.echo(json.dumps(summary.to_json(), indent=1, default=str))
    if not summary.ok:
        raise SystemExit(1)
