"""`peaceops simulate`: write the Carana scenario (seven agency feeds) to disk."""

from __future__ import annotations

import time
from pathlib import Path

import click

from ingest.settings import Settings


@click.command("simulate")
@click.option(
    "--days",
    type=click.IntRange(min=1),
    default=30,
    show_default=True,
    help="Days of simulated operations.",
)
@click.option(
    "--seed",
    type=int,
    default=7,
    show_default=True,
    help="Random seed; the same seed gives byte-identical output.",
)
@click.option(
    "--scale",
    type=click.FloatRange(min=0, min_open=True),
    default=1.0,
    show_default=True,
    help="Multiply every activity rate (100 gives millions of records a year).",
)
@click.option(
    "--agencies",
    type=click.IntRange(1, 7),
    default=None,
    help="Only the first N of the 7 feeds (default: all).",
)
@click.option(
    "--start",
    default=None,
    help="First day (UTC). Default: the period ends at today's midnight (UTC), or "
    "yesterday's before noon, so that nothing reported lies in the future.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Output folder [default: $PEACEOPS_DATA_DIR/sim, else ./data/sim].",
)
def command(
    days: int, seed: int, scale: float, agencies: int | None, start: str | None, out: Path | None
) -> None:
    """Simulate seven peace-operation agencies reporting on the fictional country Carana.

    Writes the gazetteer, the ground truth (Parquet), each feed's files as the agency
    would send them (UN sitreps API records, French patrol CSVs with DTGs and MGRS,
    HXL 3W, XLSX workbooks, Latin-1 ministry CSVs, community JSON) with duplicates,
    late arrivals, corrections, retractions and broken records, and manifest.json
    with the counts ingest must reconcile with. Reruns with the same options and
    --start are identical. See docs/feeds.md.
    """
    from ingest.lab.simulate import simulate  # heavy imports only when the command runs

    target = out if out is not None else Settings.resolve().data_dir / "sim"
    started = time.perf_counter()
    manifest = simulate(target, seed=seed, days=days, scale=scale, agencies=agencies, start=start)
    elapsed = time.perf_counter() - started
    total = 0
    click.echo(f"{'feed':<20} {'records':>10} {'duplicates':>11} {'quarantined':>12} {'files':>6}")
    for feed_id, c in manifest["feeds"].items():
        total += c["records"]
        click.echo(
            f"{feed_id:<20} {c['records']:>10,} {c['duplicates']:>11,} "
            f"{c['quarantined']:>12,} {c['files']:>6,}"
        )
    rate = total / elapsed if elapsed > 0 else float("inf")
    click.echo(f"{total:,} records in {elapsed:.2f} s ({rate:,.0f} records/s) under {target}")
