"""`peaceops catalogue`: write the analysts' table catalogue from dbt's docs."""

from __future__ import annotations

import sys
from pathlib import Path

import click


@click.command("catalogue")
@click.option(
    "--target",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="A dbt target directory with manifest.json (and catalog.json, if any) to read, "
    "e.g. data/warehouse/dbt-target after a build. Default: run `dbt parse` on the "
    "project into a temporary directory.",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where to write the catalogue (default: docs/analysts/catalogue.md; '-' for stdout).",
)
@click.option(
    "--check",
    is_flag=True,
    help="Write nothing; exit 1 if the file differs from what would be generated.",
)
def command(target: Path | None, output: Path | None, check: bool) -> None:
    """Generate the table catalogue for analysts from the dbt project's docs.

    For every published mart (fct_*, dim_*, coordination_*, normalisation_issues):
    its description and grain (config.meta.grain in the mart's YAML), the audiences
    that get it and which rows and columns, and its columns with declared type and
    description. Edit the YAMLs under dbt_project/models/marts/, then rerun this.
    """
    from ingest.serve.catalogue import CATALOGUE, CatalogueError, generate_with_gaps, write
    from ingest.warehouse.sharing import ManifestError

    out = output or CATALOGUE
    try:
        text, gaps = generate_with_gaps(target)
    except (CatalogueError, ManifestError) as exc:
        raise click.ClickException(str(exc)) from exc
    if check:
        current = out.read_text(encoding="utf-8") if out.is_file() else None
        if current != text:
            click.echo(f"{out} is out of date: run `peaceops catalogue`", err=True)
            sys.exit(1)
        click.echo(f"{out} is up to date")
        return
    if str(out) == "-":
        click.echo(text, nl=False)
        return
    write(text, out)
    click.echo(f"wrote {out}")
    if gaps:
        click.echo("missing in the dbt YAMLs: " + ", ".join(gaps), err=True)
