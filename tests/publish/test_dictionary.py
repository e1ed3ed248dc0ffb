"""A published version is self-describing: datapackage.json and DuckDB comments.

The Frictionless library is not a dependency of the hub, so the package is checked
against the structure the Data Package v2 standard requires (datapackage.org:
Data Package, Data Resource, Table Schema, Table Dialect), written out below as a
JSON Schema and validated with jsonschema.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import duckdb
import jsonschema
import pyarrow.parquet as pq
import pytest

from ingest.publish.dictionary import field_type
from ingest.publish.writer import AUDIENCES

NAME = "^[a-z0-9._/-]+$"
FIELD_TYPES = [
    "string", "number", "integer", "boolean", "object", "array", "date", "time",
    "datetime", "year", "yearmonth", "duration", "geopoint", "geojson", "list", "any",
]  # fmt: skip
FIELD = {
    "type": "object",
    "required": ["name", "type", "description"],
    "properties": {
        "name": {"type": "string", "minLength": 1},
        "type": {"enum": FIELD_TYPES},
        "description": {"type": "string", "minLength": 1},
    },
}
TABLE_SCHEMA = {
    "type": "object",
    "required": ["fields"],
    "properties": {
        "fields": {"type": "array", "minItems": 1, "items": FIELD},
        "primaryKey": {"type": "array", "items": {"type": "string"}},
    },
}
RESOURCE = {
    "type": "object",
    "required": ["name", "path", "type", "schema"],
    "properties": {
        "name": {"type": "string", "pattern": NAME},
        "path": {"type": "string", "not": {"pattern": r"^(/|.*\.\./)"}},
        "type": {"const": "table"},
        "format": {"type": "string"},
        "mediatype": {"type": "string", "pattern": "^[a-z]+/[a-z0-9.+-]+$"},
        "encoding": {"type": "string"},
        "schema": TABLE_SCHEMA,
        "dialect": {
            "type": "object",
            "properties": {
                "headerRows": {"type": "array", "items": {"type": "integer", "minimum": 1}},
                "commentRows": {"type": "array", "items": {"type": "integer", "minimum": 1}},
            },
        },
    },
}
PACKAGE = {
    "type": "object",
    "required": ["$schema", "name", "resources"],
    "properties": {
        "$schema": {"const": "https://datapackage.org/profiles/2.0/datapackage.json"},
        "name": {"type": "string", "pattern": NAME},
        "resources": {"type": "array", "minItems": 1, "items": RESOURCE},
    },
}


@pytest.fixture(scope="module")
def current(demo_data: Path) -> Path:
    return demo_data / "published" / "current"


def tables(database: Path) -> dict[str, tuple[str, list[tuple[str, str]]]]:
    """table -> (comment, [(column, comment)]) of a published unified.duckdb."""
    con = duckdb.connect(str(database), read_only=True)
    try:
        out = {
            name: (comment or "", [])
            for name, comment in con.execute(
                "SELECT table_name, comment FROM duckdb_tables() WHERE schema_name = 'main' "
                "AND database_name = current_database()"
            ).fetchall()
        }
        for table, column, comment in con.execute(
            "SELECT table_name, column_name, comment FROM duckdb_columns() "
            "WHERE schema_name = 'main' AND database_name = current_database() "
            "ORDER BY table_name, column_index"
        ).fetchall():
            out[table][1].append((column, comment or ""))
        return out
    finally:
        con.close()


@pytest.mark.slow
@pytest.mark.parametrize("audience", list(AUDIENCES))
def test_every_table_and_column_is_described(current: Path, audience: str) -> None:
    folder = current / audience
    package = json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))
    jsonschema.validate(package, PACKAGE)
    published = tables(folder / "unified.duckdb")
    assert len(published) >= 10, published.keys()
    by_path = {r["path"]: r for r in package["resources"]}
    assert len({r["name"] for r in package["resources"]}) == len(package["resources"])
    for table, (comment, columns) in published.items():
        # the DuckDB file carries the words itself
        assert comment.strip(), f"{audience}: table {table} has no comment"
        for column, text in columns:
            assert text.strip(), f"{audience}: {table}.{column} has no comment"
        resource = by_path.get(f"parquet/{table}.parquet")
        assert resource is not None, f"{audience}: no resource for {table}"
        assert resource["name"] == table and resource["description"].strip()
        fields = resource["schema"]["fields"]
        assert [f["name"] for f in fields] == [c for c, _ in columns], table
        assert [f["description"] for f in fields] == [t for _, t in columns], table
        parquet = pq.read_schema(folder / resource["path"])
        assert parquet.names == [f["name"] for f in fields], table
    for resource in package["resources"]:
        assert (folder / resource["path"]).is_file(), resource["path"]
    assert {p for p in by_path if p.startswith("parquet/")} == {
        f"parquet/{t}.parquet" for t in published
    }


@pytest.mark.slow
def test_hxl_csv_resources_describe_their_two_header_rows(current: Path) -> None:
    package = json.loads((current / "public" / "datapackage.json").read_text(encoding="utf-8"))
    csvs = [r for r in package["resources"] if r["path"].startswith("csv/")]
    assert {r["path"] for r in csvs} == {
        f"csv/{p.name}" for p in (current / "public" / "csv").glob("*.csv")
    }
    assert csvs, "no HXL CSV in the public folder"
    for resource in csvs:
        assert resource["dialect"]["commentRows"] == [2]
        with open(current / "public" / resource["path"], encoding="utf-8", newline="") as fh:
            header, tags = next(csv.reader(fh)), next(csv.reader(fh))
        assert header == [f["name"] for f in resource["schema"]["fields"]]
        assert any(t.startswith("#") for t in tags)
        assert {f["name"]: f.get("hxl", "") for f in resource["schema"]["fields"]} == dict(
            zip(header, tags, strict=True)
        )


@pytest.mark.slow
def test_typed_like_the_table_and_listed_in_the_manifest(current: Path) -> None:
    package = json.loads((current / "mission" / "datapackage.json").read_text(encoding="utf-8"))
    incidents = next(r for r in package["resources"] if r["name"] == "fct_incidents")
    types = {f["name"]: f["type"] for f in incidents["schema"]["fields"]}
    assert types["occurred_at"] == "datetime"
    assert types["occurred_on"] == "date"
    assert types["agency_ids"] == "array"
    assert types["latitude"] == "number"
    assert incidents["schema"]["primaryKey"] == ["incident_id"]
    manifest = json.loads((current / "manifest.json").read_text())
    assert {f"{a}/datapackage.json" for a in AUDIENCES} <= set(manifest["files"])
    assert package["version"] == manifest["version"]


def test_field_types() -> None:
    assert field_type("TIMESTAMP WITH TIME ZONE") == "datetime"
    assert field_type("VARCHAR[]") == "array"
    assert field_type("UUID") == "string"
    assert field_type("UBIGINT") == "integer"
    assert field_type("DECIMAL(9,3)") == "number"
    assert field_type("BOOLEAN") == "boolean"
    assert field_type("DATE") == "date"
