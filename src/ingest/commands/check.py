"""`peaceops check`: run the quality gate on the warehouse."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("check")
@click.option(
    "--write-suites",
    is_flag=True,
    help="Regenerate the committed GX context under expectations/ from code, then exit.",
)
@click.option(
    "--json",
    "json_out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the full GateResult as JSON to this file.",
)
@click.option("--no-docs", is_flag=True, help="Skip building the Data Docs HTML.")
@click.option(
    "--all",
    "whole",
    is_flag=True,
    help="Validate every mart; by default, after an incremental build, a mart whose checked "
    "columns are unchanged keeps its last pass (at most recheck_hours, expectations/gate.yml).",
)
def command(write_suites: bool, json_out: Path | None, no_docs: bool, whole: bool) -> None:
    """Validate every published mart of data/warehouse/build.duckdb with the
    Great Expectations suites in expectations/ (keys, coordinates, times, codes,
    releasability, reconciliation with the event log, row-count change).

    Prints which expectation failed on which mart and column, on how many rows,
    with example values; writes Data Docs under data/gate/. Exits 1 on failure.
    """
    from ingest.settings import Settings

    settings = Settings.resolve()
    if write_suites:
        from ingest.gate.suites import generate

        for path in generate(settings.expectations_dir, settings.gate):
            click.echo(path)
        return
    from rich.console import Console

    from ingest import stages
    from ingest.gate.summary import format_summary

    console = Console(stderr=True)
    with console.status("[bold]loading Great Expectations and checking the marts"):
        result = stages.check(settings, data_docs=not no_docs, whole=whole)
    click.echo(format_summary(result))
    if json_out is not None:
        json_out.write_text(result.to_json())
    if not result.passed:
        raise SystemExit(1)
