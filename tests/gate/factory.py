"""Small test warehouses: DuckDB files with the marts' columns (types from the mart YAMLs),
the folded intermediate models and the eventlog views the reconciliation reads.

Rows are consistent: every fact row's lineage names committed events, one retracted
record accounts for the rest, and the load counts balance. `bad` injects broken rows.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import yaml

from ingest.feeds.registry import load_registry
from ingest.gate.marts import VOCABULARIES
from ingest.gate.parameters import country_bounds as pack_bounds
from ingest.releasability import RELEASABILITY
from ingest.settings import PROJECT_DIR as REPO
from ingest.warehouse.country_pack import load_packs
from ingest.warehouse.sharing import MartSpec, published_marts
from ingest.warehouse.tables import pack_tables, registry_tables

MARTS_DIR = REPO / "dbt_project" / "models" / "marts"
START = datetime(2026, 10, 1, tzinfo=UTC)
LEVELS = RELEASABILITY  # public, partners, mission, restricted
BAD_KINDS = ("unknown_code", "outside_country", "future_time")


SEEDS = REPO / "dbt_project" / "seeds"


def reference_tables(con: duckdb.DuckDBPyConnection) -> None:
    """What the gate reads its vocabularies from: the project's seeds, the demo's country
    pack and registry (as a build loads them)."""
    registry = load_registry(REPO / "feeds.yaml", Path("data"))
    tables = {
        **{f"pack.{n}": t for n, t in pack_tables(load_packs(registry.country_packs)).items()},
        **{f"registry.{n}": t for n, t in registry_tables(registry).items()},
    }
    for schema in ("seeds", "pack", "registry"):
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    for seed in SEEDS.glob("*.csv"):
        con.execute(
            f"CREATE TABLE seeds.{seed.stem} AS SELECT * FROM read_csv('{seed}', all_varchar = true)"
        )
    for name, table in tables.items():
        con.register("_t", table)
        con.execute(f"CREATE TABLE {name} AS SELECT * FROM _t")
        con.unregister("_t")


@cache
def _reference() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    reference_tables(con)
    return con


# Both are read for every generated value: uncached, a warehouse took 12 s to make.
@cache
def vocabulary(name: str) -> list[str]:
    """The accepted values of a gate vocabulary, as the gate reads them."""
    return sorted(v for (v,) in _reference().execute(VOCABULARIES[name]).fetchall())


@cache
def country_bounds() -> dict[str, float]:
    return pack_bounds(_reference())


def _model(name: str) -> dict[str, Any]:
    for path in MARTS_DIR.rglob(f"{name}.yml"):
        return yaml.safe_load(path.read_text())["models"][0]
    raise LookupError(name)


def duckdb_type(declared: str) -> str:
    """A YAML `data_type` as dbt renders it for DuckDB (it names Spark's type too)."""
    import jinja2

    return jinja2.Template(declared).render(target={"type": "duckdb"})


def mart_columns(name: str) -> list[tuple[str, str]]:
    """(column, data_type) of a mart, from its YAML."""
    return [(c["name"], duckdb_type(c["data_type"])) for c in _model(name)["columns"]]


@cache
def accepted_values(name: str) -> dict[str, list[Any]]:
    """column -> the values of its dbt accepted_values test, from the mart's YAML."""
    out = {}
    for column in _model(name)["columns"]:
        for test in column.get("data_tests") or []:
            if isinstance(test, dict) and "accepted_values" in test:
                out[column["name"]] = test["accepted_values"]["arguments"]["values"]
    return out


FACT_ENTITY = {
    "fct_incidents": ("incident_id", "int_incidents_folded", "inc"),
    "fct_aid_deliveries": ("delivery_id", "int_deliveries_folded", "del"),
    "fct_patrols": ("patrol_id", "int_patrols_folded", "pat"),
    "fct_operational_presence": ("presence_id", "int_presence_folded", "pre"),
}


@cache
def _specs() -> dict[str, MartSpec]:
    return {m.name: m for m in published_marts()}


def _value(mart: str, column: str, dtype: str, i: int, overrides: dict[str, Any]) -> Any:
    if column in overrides:
        value = overrides[column]
        return value(i) if callable(value) else value
    bounds = country_bounds()
    spec = _specs()[mart]
    if column in spec.vocab:
        values = vocabulary(spec.vocab[column])
        return values[i % len(values)]
    if column == spec.key and dtype == "varchar":
        return f"{mart}:{i}"
    accepted = accepted_values(mart)
    if column in accepted:
        values = accepted[column]
        return values[i % len(values)]
    if column == "releasability":
        return LEVELS[i % len(LEVELS)]
    if column == "latitude":
        return bounds["min_lat"] + 0.25 + (i % 7) * 0.1
    if column == "longitude":
        return bounds["min_lon"] + 0.25 + (i % 5) * 0.1
    if dtype == "timestamptz":
        return START + timedelta(hours=i)
    if dtype == "date":
        return (START + timedelta(days=i)).date() if column == spec.key else date(2026, 10, 1)
    if dtype == "varchar[]":
        return [f"{column}-{i}"]
    if dtype == "boolean":
        return False
    if dtype in ("double", "integer", "bigint"):
        return 1
    if dtype in ("integer[]", "bigint[]"):
        return [1]
    return f"{column} {i}"


def make_warehouse(
    path: Path,
    *,
    rows: int = 8,
    bad: tuple[str, ...] = (),
    overrides: dict[str, dict[str, Any]] | None = None,
    extra_columns: dict[str, dict[str, str]] | None = None,
) -> Path:
    """Write a warehouse with `rows` rows per mart (dims: as many as the seeds allow).

    overrides: mart -> column -> value or function of the row number.
    extra_columns: mart -> column -> text: a column the mart YAMLs do not declare.
    """
    overrides = overrides or {}
    extra_columns = extra_columns or {}
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.unlink()
    con = duckdb.connect(str(path))
    con.execute("SET TimeZone = 'UTC'")
    for schema in ("marts", "intermediate", "eventlog"):
        con.execute(f"CREATE SCHEMA {schema}")
    reference_tables(con)
    events: list[tuple[str, str, datetime]] = []
    for spec in published_marts():
        cols = mart_columns(spec.name)
        extra = extra_columns.get(spec.name, {})
        ddl = ", ".join(f'"{c}" {t}' for c, t in cols)
        ddl += "".join(f', "{c}" varchar' for c in extra)
        con.execute(f"CREATE TABLE marts.{spec.name} ({ddl})")
        n = rows
        if spec.name == "dim_agencies":
            n = len(vocabulary("agency_id"))
        elif spec.name == "dim_locations":
            n = len(vocabulary("admin2_pcode"))
        if spec.key in spec.vocab:
            n = min(n, len(vocabulary(spec.vocab[spec.key])))
        mart_over = dict(overrides.get(spec.name, {}))
        if spec.name == "dim_agencies":
            mart_over.setdefault("agency_id", lambda i: vocabulary("agency_id")[i])
        if spec.name == "dim_locations":
            mart_over.setdefault("admin2_pcode", lambda i: vocabulary("admin2_pcode")[i])
        entity = FACT_ENTITY.get(spec.name)
        if entity:
            mart_over.setdefault("source_event_ids", lambda i, e=entity[2]: [f"ev-{e}-{i}"])
        data = []
        for i in range(n):
            row = [_value(spec.name, c, t, i, mart_over) for c, t in cols]
            row += [extra[c].format(i=i) for c in extra]
            data.append(row)
        _insert(con, f"marts.{spec.name}", data)
        if entity:
            _key, folded, short = entity
            con.execute(
                f"CREATE TABLE intermediate.{folded} (record_key varchar, event_ids varchar[], "
                "is_retracted boolean, is_excluded boolean)"
            )
            ids = [
                r[0]
                for r in con.execute(f"SELECT source_event_ids FROM marts.{spec.name}").fetchall()
            ]
            recs = [(f"{short}:{i}", ev, False, False) for i, ev in enumerate(ids)]
            recs.append((f"{short}:retracted", [f"ev-{short}-retracted"], True, False))
            _insert(con, f"intermediate.{folded}", recs)
            for _, ev, _, _ in recs:
                events += [(e, f"test.{short}", START) for e in ev]
    # the test feeds the events come through, as a build registers feeds.yaml's
    for short, entity in (
        ("inc", "incident"),
        ("del", "delivery"),
        ("pat", "patrol"),
        ("pre", "presence"),
    ):
        con.execute(
            "INSERT INTO registry.feeds (feed_id, agency_id, entity) VALUES (?, 'test', ?)",
            [f"test.{short}", entity],
        )
    con.execute(
        "CREATE TABLE eventlog.events_data (event_id varchar, feed_id varchar, "
        "recorded_at timestamptz)"
    )
    _insert(con, "eventlog.events_data", events)
    con.execute(
        "CREATE VIEW eventlog.events AS "
        "SELECT *, recorded_at AS known_at, CAST(NULL AS TIMESTAMPTZ) AS retired_at "
        "FROM eventlog.events_data"
    )
    con.execute(
        "CREATE TABLE eventlog.loads (load_id VARCHAR, feed_id VARCHAR, kind VARCHAR, "
        "committed_at TIMESTAMPTZ, recorded_at TIMESTAMPTZ, known_at TIMESTAMPTZ, records_read BIGINT, "
        "events_appended BIGINT, duplicates BIGINT, quarantined BIGINT, sources INTEGER, "
        "retired_at TIMESTAMPTZ)"
    )
    for feed_id in sorted({feed for _, feed, _ in events}):
        n = sum(feed == feed_id for _, feed, _ in events)
        con.execute(
            "INSERT INTO eventlog.loads VALUES (?, ?, 'load', ?, ?, ?, ?, ?, 1, 1, 1, NULL)",
            [f"l-{feed_id}", feed_id, START, START, START, n + 2, n],
        )
    for kind in bad:
        inject(con, kind)
    con.close()
    return path


def _insert(con: duckdb.DuckDBPyConnection, table: str, rows: list[Any]) -> None:
    """Insert rows through Arrow, columns in the table's order: executemany binds a
    statement per row, and a 400-row warehouse took 11 s that way."""
    if not rows:
        return
    columns = {f"c{j}": pa.array([row[j] for row in rows]) for j in range(len(rows[0]))}
    con.register("_rows", pa.table(columns))
    con.execute(f"INSERT INTO {table} SELECT * FROM _rows")
    con.unregister("_rows")


def inject(con: duckdb.DuckDBPyConnection, kind: str) -> None:
    """Break the warehouse in one of BAD_KINDS ways (without touching the lineage)."""
    if kind == "unknown_code":
        con.execute(
            "UPDATE marts.fct_incidents SET incident_sub_type = 'Alien invasion' "
            "WHERE incident_id IN ('fct_incidents:0', 'fct_incidents:5')"
        )
    elif kind == "outside_country":
        con.execute(
            "UPDATE marts.fct_aid_deliveries SET latitude = 48.85, longitude = 2.35 "
            "WHERE delivery_id = 'fct_aid_deliveries:1'"
        )
    elif kind == "future_time":
        con.execute(
            "UPDATE marts.fct_patrols SET started_at = now() + INTERVAL 400 DAY "
            "WHERE patrol_id = 'fct_patrols:2'"
        )
    else:
        raise ValueError(kind)
