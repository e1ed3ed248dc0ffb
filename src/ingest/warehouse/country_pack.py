"""Country packs: the admin areas and places of one or more countries, as data.

A pack is a folder (docs/country-packs.md):

    pack.yaml         name, source, licence
    admin0.csv        admin0_pcode, iso3, admin0_name, alt_names
    admin1.csv        admin1_pcode, admin1_name, admin0_pcode, alt_names[, wkt][, population]
    admin2.csv        admin2_pcode, admin2_name, admin1_pcode, alt_names[, wkt][, population]
    places.csv        place_id, place_name, alt_names, latitude, longitude, admin2_pcode  (optional)
    name_rejections.csv  name, admin_level, pcode: fuzzy matches a reviewer refused (optional)

`alt_names` holds other names and spellings, '|'-separated (other languages,
variants seen in agencies' data); `wkt` a WGS84 polygon or multipolygon;
`population` the area's people, a whole number (pack.yaml's `population_source` says
whose estimate, of which year). A pack without boundaries locates records by p-code
and by name only; one without population gets no per-capita figures.

Packs are checked when loaded (required columns, unique p-codes, every parent
known); the build copies them into the warehouse's `pack` schema, and the
point-in-area functions read their polygons from the same files.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

REQUIRED = {
    "admin0": ("admin0_pcode", "iso3", "admin0_name"),
    "admin1": ("admin1_pcode", "admin1_name", "admin0_pcode"),
    "admin2": ("admin2_pcode", "admin2_name", "admin1_pcode"),
    "places": ("place_id", "place_name", "latitude", "longitude", "admin2_pcode"),
    "name_rejections": ("name", "admin_level", "pcode"),
}
OPTIONAL = {
    "admin0": ("alt_names",),
    "admin1": ("alt_names", "wkt", "population"),
    "admin2": ("alt_names", "wkt", "population"),
    "places": ("alt_names",),
    "name_rejections": (),
}
OPTIONAL_FILES = ("places", "name_rejections")


class PackError(ValueError):
    """A country pack is malformed; the message names the file and the row."""


Rows = list[dict[str, str]]


@dataclass(frozen=True)
class CountryPack:
    path: Path
    name: str
    source: str
    licence: str
    tables: dict[str, Rows]
    population_source: str = ""

    @property
    def has_boundaries(self) -> bool:
        return any(r.get("wkt") for t in ("admin1", "admin2") for r in self.tables[t])


def _read(path: Path, table: str) -> Rows:
    if not path.exists():
        if table in OPTIONAL_FILES:
            return []
        raise PackError(f"country pack {path.parent}: {path.name} is missing")
    with open(path, newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        columns = reader.fieldnames or []
        missing = [c for c in REQUIRED[table] if c not in columns]
        if missing:
            raise PackError(
                f"country pack {path.parent}: {path.name} lacks column(s) {', '.join(missing)} "
                f"(has {', '.join(columns)})"
            )
        keep = (*REQUIRED[table], *OPTIONAL[table])
        return [{c: (row.get(c) or "").strip() for c in keep} for row in reader]


def _unique(rows: Rows, key: str, where: str) -> set[str]:
    seen: set[str] = set()
    for i, row in enumerate(rows, start=2):
        code = row[key]
        if not code:
            raise PackError(f"{where} row {i}: empty {key}")
        if code in seen:
            raise PackError(f"{where} row {i}: {key} {code!r} is listed twice")
        seen.add(code)
    return seen


def _parents(rows: Rows, column: str, known: set[str], where: str) -> None:
    for i, row in enumerate(rows, start=2):
        if row[column] not in known:
            raise PackError(f"{where} row {i}: {column} {row[column]!r} is not in the pack")


@cache
def load_pack(path: Path) -> CountryPack:
    """Read and check one pack folder (cached: packs do not change during a run)."""
    if not path.is_dir():
        raise PackError(f"country pack {path} is not a folder (see docs/country-packs.md)")
    meta_file = path / "pack.yaml"
    meta = yaml.safe_load(meta_file.read_text(encoding="utf-8")) if meta_file.exists() else {}
    tables = {t: _read(path / f"{t}.csv", t) for t in REQUIRED}
    where = {t: f"country pack {path}: {t}.csv" for t in REQUIRED}
    admin0 = _unique(tables["admin0"], "admin0_pcode", where["admin0"])
    admin1 = _unique(tables["admin1"], "admin1_pcode", where["admin1"])
    admin2 = _unique(tables["admin2"], "admin2_pcode", where["admin2"])
    _unique(tables["places"], "place_id", where["places"])
    _parents(tables["admin1"], "admin0_pcode", admin0, where["admin1"])
    _parents(tables["admin2"], "admin1_pcode", admin1, where["admin2"])
    _parents(tables["places"], "admin2_pcode", admin2, where["places"])
    for i, row in enumerate(tables["places"], start=2):
        try:
            float(row["latitude"]), float(row["longitude"])
        except ValueError:
            raise PackError(
                f"{where['places']} row {i}: latitude/longitude are not numbers"
            ) from None
    for table in ("admin1", "admin2"):
        for i, row in enumerate(tables[table], start=2):
            if row.get("population") and not row["population"].isdigit():
                raise PackError(
                    f"{where[table]} row {i}: population {row['population']!r} is not a "
                    "whole number of people"
                )
    return CountryPack(
        path=path,
        name=str(meta.get("name") or path.name),
        source=str(meta.get("source") or ""),
        licence=str(meta.get("licence") or ""),
        tables=tables,
        population_source=str(meta.get("population_source") or ""),
    )


def load_packs(paths: Sequence[Path]) -> list[CountryPack]:
    """Several packs used together; a p-code may belong to one pack only."""
    packs = [load_pack(Path(p)) for p in paths]
    for table, key in (
        ("admin0", "admin0_pcode"),
        ("admin1", "admin1_pcode"),
        ("admin2", "admin2_pcode"),
    ):
        owner: dict[str, Path] = {}
        for pack in packs:
            for row in pack.tables[table]:
                if row[key] in owner:
                    raise PackError(
                        f"{key} {row[key]!r} is in both {owner[row[key]]} and {pack.path}"
                    )
                owner[row[key]] = pack.path
    return packs


def combined(packs: Sequence[CountryPack], table: str) -> Rows:
    """The rows of one table over every pack, each with the columns of its table."""
    return [row for pack in packs for row in pack.tables[table]]


def polygons(packs: Sequence[CountryPack], level: int) -> list[tuple[str, str]]:
    """(p-code, WKT) of every area of `level` (1 or 2) that has a boundary."""
    key = f"admin{level}_pcode"
    return [(r[key], r["wkt"]) for r in combined(packs, f"admin{level}") if r.get("wkt")]


def populations(packs: Sequence[CountryPack], level: int) -> dict[str, int]:
    """People per p-code of `level` (1 or 2), for the areas that have a population."""
    key = f"admin{level}_pcode"
    rows = combined(packs, f"admin{level}")
    return {r[key]: int(r["population"]) for r in rows if r.get("population")}


# -- importing public p-code lists ----------------------------------------------------

GLOBAL_PCODE_COLUMNS = ("Location", "Admin Level", "P-Code", "Name", "Parent P-Code")
# a COD-PS table's p-code column, lower case without underscores
POPULATION_PCODES = {"admin1pcode", "adm1pcode", "admin2pcode", "adm2pcode"}


def from_global_pcodes(
    text: str, iso3: str, name: str, alt_names: dict[str, str] | None = None
) -> dict[str, Rows]:
    """The admin0/1/2 tables of one country from HDX's global p-code list (the CSV the
    OCHA-DAP hdx-python-country fixtures carry: Location, Admin Level, P-Code, Name,
    Parent P-Code; an HXL row below the header is skipped). `alt_names` adds other names
    per p-code ('|'-separated: official names in other languages, reviewed variants)."""
    alt_names = alt_names or {}
    reader = csv.DictReader(text.splitlines())
    missing = [c for c in GLOBAL_PCODE_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise PackError(f"not a global p-code list: no column(s) {', '.join(missing)}")
    rows = [r for r in reader if r["Location"] == iso3 and not r["Location"].startswith("#")]
    if not rows:
        raise PackError(f"no rows for {iso3} in the p-code list")
    admin1 = [r for r in rows if r["Admin Level"] == "1"]
    admin2 = [r for r in rows if r["Admin Level"] == "2"]
    # COD p-codes start with the country's two-letter code: HT01, HT0111
    admin0 = admin1[0]["P-Code"][:2] if admin1 else iso3[:2]
    return {
        "admin0": [
            {
                "admin0_pcode": admin0,
                "iso3": iso3,
                "admin0_name": name,
                "alt_names": alt_names.get(admin0, ""),
            }
        ],
        "admin1": [
            {
                "admin1_pcode": r["P-Code"],
                "admin1_name": r["Name"],
                "admin0_pcode": admin0,
                "alt_names": alt_names.get(r["P-Code"], ""),
            }
            for r in admin1
        ],
        "admin2": [
            {
                "admin2_pcode": r["P-Code"],
                "admin2_name": r["Name"],
                "admin1_pcode": r["Parent P-Code"],
                "alt_names": alt_names.get(r["P-Code"], ""),
            }
            for r in admin2
        ],
    }


def cod_population(text: str) -> dict[str, int]:
    """People per p-code from one of OCHA's COD-PS tables (HDX's `cod-ps-<iso3>`
    datasets, e.g. eth_admpop_adm1_2022_v2.csv): the p-code column (`admin1Pcode`,
    `ADM1_PCODE`, ...) and the total `T_TL`; an HXL row is skipped."""
    reader = csv.DictReader(text.splitlines())
    columns = reader.fieldnames or []
    pcode = next((c for c in columns if c.lower().replace("_", "") in POPULATION_PCODES), None)
    if pcode is None or "T_TL" not in columns:
        raise PackError(
            f"not a COD-PS table: needs a p-code column ({', '.join(sorted(POPULATION_PCODES))}) "
            f"and T_TL (has {', '.join(columns)})"
        )
    people: dict[str, int] = {}
    for i, row in enumerate(reader, start=2):
        if row[pcode].startswith("#"):
            continue
        total = (row["T_TL"] or "").replace(",", "").strip()
        if not total.isdigit():
            raise PackError(f"COD-PS row {i}: T_TL {row['T_TL']!r} is not a number of people")
        people[row[pcode].strip()] = int(total)
    return people


def add_population(tables: dict[str, Rows], people: dict[str, int]) -> None:
    """Set `population` on the admin1 and admin2 rows whose p-code `people` gives."""
    for level in ("admin1", "admin2"):
        for row in tables[level]:
            if row[f"{level}_pcode"] in people:
                row["population"] = str(people[row[f"{level}_pcode"]])


def write_pack(folder: Path, meta: dict[str, str], tables: dict[str, Rows]) -> None:
    """Write a pack folder (pack.yaml and its CSVs), as `load_pack` reads it."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pack.yaml").write_text(yaml.safe_dump(meta, sort_keys=False, allow_unicode=True))
    for table, rows in tables.items():
        columns = [*REQUIRED[table], *(c for c in OPTIONAL[table] if any(c in r for r in rows))]
        with open(folder / f"{table}.csv", "w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, columns, lineterminator="\n", extrasaction="ignore")
            writer.writeheader()
            writer.writerows(rows)
