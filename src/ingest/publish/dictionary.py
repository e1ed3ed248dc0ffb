"""The data dictionary that travels with each published version.

A partner who receives an audience's folder without the repository must still know
what its files hold. So every audience folder gets:

- `datapackage.json`, a Frictionless Data Package (v2): one tabular resource per
  published table (`parquet/<table>.parquet`) and one per HXL-tagged CSV
  (`csv/<table>.csv`, whose second row is the HXL hashtag row, declared as a comment
  row of its dialect), each with a Table Schema whose fields carry name, type and
  description;
- `COMMENT ON TABLE` / `COMMENT ON COLUMN` in its `unified.duckdb` (DuckDB shows them
  in `duckdb_tables()` / `duckdb_columns()`, and BI tools read them).

The words are dbt's model and column descriptions, read from the manifest the way
the catalogue reads them (`ingest.serve.catalogue`), so the page and the files never differ;
the types are those of the published table itself.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from pathlib import Path
from typing import Any

import duckdb

from ingest.sessions import connect
from ingest.sql import ident, literal
from ingest.warehouse.sharing import MartSpec

PACKAGE_PROFILE = "https://datapackage.org/profiles/2.0/datapackage.json"
RESOURCE_PROFILE = "https://datapackage.org/profiles/2.0/dataresource.json"
DIALECT_PROFILE = "https://datapackage.org/profiles/2.0/tabledialect.json"
SCHEMA_PROFILE = "https://datapackage.org/profiles/2.0/tableschema.json"
PARQUET_MEDIATYPE = "application/vnd.apache.parquet"


def _docs(manifest: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per mart: its description, grain and column descriptions, from dbt's manifest."""
    from ingest.serve.catalogue import grain, mart_nodes

    docs = {}
    for name, node in mart_nodes(manifest).items():
        text = " ".join((node.get("description") or "").split())
        rows = grain(node)
        docs[name] = {
            "description": f"{text} Grain: {rows}." if rows else text,
            "columns": {
                column: " ".join((info.get("description") or "").split())
                for column, info in (node.get("columns") or {}).items()
            },
        }
    return docs


def mart_docs(target: Path | None) -> dict[str, dict[str, Any]]:
    """The marts' descriptions from the build's dbt artifacts in `target`; when the build
    left none (a warehouse not built by dbt), from a fresh parse of the project."""
    from ingest.serve.catalogue import load_artifacts

    if target is not None and (Path(target) / "manifest.json").is_file():
        return _docs(load_artifacts(Path(target))[0])
    from ingest.warehouse.sharing import parsed_manifest

    return _docs(parsed_manifest())


def field_type(duckdb_type: str) -> str:
    """A DuckDB column type as a Table Schema field type."""
    t = duckdb_type.upper()
    if t.endswith("[]") or t.startswith("LIST"):
        return "array"
    if t.startswith(("STRUCT", "MAP", "JSON")):
        return "object"
    if t in ("BOOLEAN", "BOOL"):
        return "boolean"
    if t.startswith("TIMESTAMP"):
        return "datetime"
    if t == "DATE":
        return "date"
    if t.startswith("TIME"):
        return "time"
    if t.startswith("INTERVAL"):
        return "duration"
    if t.removeprefix("U") in ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT"):
        return "integer"
    if t.startswith(("DOUBLE", "FLOAT", "REAL", "DECIMAL")):
        return "number"
    return "string"


def _tables(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[str, str]]]:
    """(column, type) of every table in `main` of the connection's database."""
    out: dict[str, list[tuple[str, str]]] = {}
    for table, column, dtype in con.execute(
        "SELECT table_name, column_name, data_type FROM duckdb_columns() WHERE database_name = "
        "current_database() AND schema_name = 'main' ORDER BY table_name, column_index"
    ).fetchall():
        out.setdefault(table, []).append((column, dtype))
    return out


def comment_tables(
    con: duckdb.DuckDBPyConnection,
    docs: dict[str, dict[str, Any]],
    tables: Collection[str] | None = None,
) -> None:
    """COMMENT ON every table (of `tables`, default all) and column of an audience's
    unified.duckdb being written (ingest.publish.writer, before the file is sealed: a file
    carried over is never opened for writing), in one transaction: each statement alone
    would commit, 700 of them 3 s at 10M."""
    con.execute("BEGIN TRANSACTION")
    for table, columns in _tables(con).items():
        if tables is not None and table not in tables:
            continue
        doc = docs.get(table, {"description": "", "columns": {}})
        con.execute(f"COMMENT ON TABLE main.{ident(table)} IS {literal(doc['description'])}")
        for column, _ in columns:
            text = doc["columns"].get(column, "")
            con.execute(f"COMMENT ON COLUMN main.{ident(table)}.{ident(column)} IS {literal(text)}")
    con.execute("COMMIT")


def describe_audience(
    folder: Path,
    audience: str,
    docs: dict[str, dict[str, Any]],
    version: str,
    marts: tuple[MartSpec, ...],
) -> dict[str, Any]:
    """Write `folder`/datapackage.json for the tables of `folder`/unified.duckdb (opened
    read-only: it may be the previous version's file, carried over); returns it."""
    spec_of = {spec.name: spec for spec in marts}
    resources = []
    con = connect(folder / "unified.duckdb", read_only=True)
    try:
        tables = _tables(con)
    finally:
        con.close()
    for table, columns in tables.items():
        doc = docs.get(table, {"description": "", "columns": {}})
        fields = [
            {"name": c, "type": field_type(t), "description": doc["columns"].get(c, "")}
            for c, t in columns
        ]
        spec = spec_of.get(table)
        schema: dict[str, Any] = {"$schema": SCHEMA_PROFILE, "fields": fields}
        if spec is not None and spec.key in {f["name"] for f in fields}:
            schema["primaryKey"] = [spec.key]
        resources.append(
            _resource(table, f"parquet/{table}.parquet", doc["description"], schema)
            | {"format": "parquet", "mediatype": PARQUET_MEDIATYPE}
        )
        if (folder / "csv" / f"{table}.csv").is_file() and spec is not None and spec.hxl:
            resources.append(_csv_resource(table, doc["description"], fields, spec.hxl))
    package = {
        "$schema": PACKAGE_PROFILE,
        "name": f"peaceops-{audience}",
        "title": f"PeaceOps Data Hub, unified dataset for the {audience} audience",
        "description": (
            "Incidents, aid deliveries, patrols and coordination views unified across "
            f"agencies, as released to the '{audience}' audience. The same tables are in "
            "unified.duckdb (with these descriptions as table and column comments)."
        ),
        "version": version,
        "keywords": ["peace operations", "coordination", audience],
        "resources": resources,
    }
    (folder / "datapackage.json").write_text(
        json.dumps(package, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return package


def _resource(name: str, path: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "$schema": RESOURCE_PROFILE,
        "name": name,
        "type": "table",
        "path": path,
        "description": description,
        "schema": schema,
    }


def _csv_resource(
    table: str, description: str, fields: list[dict[str, Any]], hxl: dict[str, str]
) -> dict[str, Any]:
    """The HXL CSV export: lists are joined with ';' (so text), the hashtag row is row 2."""
    csv_fields = [
        {
            **f,
            "type": "string" if f["type"] == "array" else f["type"],
            **({"hxl": hxl[f["name"]]} if f["name"] in hxl else {}),
        }
        for f in fields
    ]
    return _resource(
        f"{table}-hxl-csv",
        f"csv/{table}.csv",
        description + " HXL-tagged CSV: row 2 holds the HXL hashtags; lists are joined with ';'.",
        {"$schema": SCHEMA_PROFILE, "fields": csv_fields},
    ) | {
        "format": "csv",
        "mediatype": "text/csv",
        "encoding": "utf-8",
        "dialect": {"$schema": DIALECT_PROFILE, "headerRows": [1], "commentRows": [2]},
    }
