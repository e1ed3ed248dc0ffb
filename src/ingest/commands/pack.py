"""`peaceops pack`: country packs (docs/country-packs.md)."""

from __future__ import annotations

from pathlib import Path

import click
import yaml


@click.group("pack")
def command() -> None:
    """Country packs: the admin areas and places the hub locates records in."""


@command.command("import-pcodes")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--country", "iso3", required=True, metavar="ISO3", help="e.g. HTI")
@click.option("--name", required=True, help="The country's name, e.g. Haiti.")
@click.option(
    "--alt-names",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="YAML of p-code -> other names ('|'-separated), e.g. official names in French.",
)
@click.option("--source-note", default="", help="Where the list comes from (pack.yaml source).")
@click.option("--licence", default="", help="Its licence (pack.yaml licence).")
@click.option(
    "--population",
    "population_files",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    multiple=True,
    help="An OCHA COD-PS table (admin1 or admin2 p-code column and T_TL), repeatable: "
    "each area's population.",
)
@click.option(
    "--population-note",
    default="",
    help="Whose population estimate, of which year, under which licence (pack.yaml "
    "population_source).",
)
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True)
def import_pcodes(
    source: Path,
    iso3: str,
    name: str,
    alt_names: Path | None,
    source_note: str,
    licence: str,
    population_files: tuple[Path, ...],
    population_note: str,
    out: Path,
) -> None:
    """Make a pack of one country from HDX's global p-code list (CSV with Location,
    Admin Level, P-Code, Name, Parent P-Code), then check it loads."""
    from ingest.warehouse.country_pack import (
        add_population,
        cod_population,
        from_global_pcodes,
        load_pack,
        write_pack,
    )

    alt = yaml.safe_load(alt_names.read_text(encoding="utf-8")) if alt_names else {}
    tables = from_global_pcodes(
        source.read_text(encoding="utf-8-sig"), iso3, name, {k: str(v) for k, v in alt.items()}
    )
    for table in population_files:
        add_population(tables, cod_population(table.read_text(encoding="utf-8-sig")))
    meta = {"name": name, "source": source_note or str(source), "licence": licence or "unknown"}
    if population_files:
        meta["population_source"] = population_note or ", ".join(map(str, population_files))
    write_pack(out, meta, tables)
    pack = load_pack(out.resolve())
    counts = ", ".join(f"{len(pack.tables[t])} {t}" for t in ("admin0", "admin1", "admin2"))
    click.echo(f"wrote {out}: {counts}")


@command.command("check")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
def check(folder: Path) -> None:
    """Load a pack and say what it holds (an error names the file and the row)."""
    from ingest.warehouse.country_pack import load_pack

    pack = load_pack(folder.resolve())
    counts = ", ".join(f"{len(rows)} {t}" for t, rows in pack.tables.items())
    boundaries = "with boundaries" if pack.has_boundaries else "without boundaries"
    click.echo(f"{pack.name}: {counts}; {boundaries}")
