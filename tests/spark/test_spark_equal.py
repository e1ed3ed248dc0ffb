"""The same dbt project on Spark gives the same marts as on DuckDB (issue 22).

A simulated operation (3 days, every feed through the real ingest) is built on DuckDB and,
from the same log and as of the same moment, on Spark local[2] (ingest.warehouse.spark); every
mart must hold the same rows, order aside. Then the gate and publish run on Spark's
warehouse as they run on DuckDB's.

Normalised where the engines legitimately differ, and only there (`normalise`):
- doubles are compared to 12 significant digits: the engines sum in different orders
  (partial aggregates per task on Spark), so the last bits of a float sum may differ;
- timestamps are compared as UTC instants (Spark's are session-local, DuckDB's carry UTC);
- lists keep their order (the models order them), structs compare field by field.
Column names and column types (as Arrow gives them to the DuckDB warehouse) must match.

`make spark-test` (needs Java 17 and the `spark` extra).
"""

from __future__ import annotations

import math
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from ingest.lab.simulate import simulate
from ingest.sessions import connect
from ingest.warehouse.runner import build, warehouse_path
from tests.warehouse.logbuilder import ingest_simulation, project_registry

pytestmark = [pytest.mark.spark, pytest.mark.slow]


def normalise(value: Any) -> Any:
    if isinstance(value, float):
        return None if math.isnan(value) else float(f"{value:.12g}")
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, list | tuple):
        return tuple(normalise(v) for v in value)
    if isinstance(value, dict):
        return tuple((k, normalise(v)) for k, v in value.items())
    return value


def marts(warehouse: Path) -> dict[str, tuple[list[tuple[str, str]], list[tuple]]]:
    """Per mart: its (column, type)s and its rows, normalised and sorted."""
    con = connect(warehouse, read_only=True)
    try:
        out = {}
        for (name,) in con.sql(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'marts' ORDER BY 1"
        ).fetchall():
            columns = con.execute(
                "SELECT column_name, data_type FROM duckdb_columns() "
                "WHERE schema_name = 'marts' AND table_name = ? ORDER BY column_index",
                [name],
            ).fetchall()
            rows = [normalise(r) for r in con.sql(f"SELECT * FROM marts.{name}").fetchall()]
            out[name] = (columns, sorted(rows, key=repr))
        return out
    finally:
        con.close()


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    duck = tmp_path_factory.mktemp("duckdb")
    simulate(duck / "sim", seed=7, days=3)
    ingest_simulation(duck)
    spark = tmp_path_factory.mktemp("spark")
    shutil.copytree(duck, spark, dirs_exist_ok=True)
    as_of = datetime.now(UTC)
    built = build(duck, registry=project_registry(duck), as_of=as_of)
    assert built.ok, built.failures

    from ingest.warehouse import spark as spark_target

    on_spark = spark_target.build(spark, registry=project_registry(spark), as_of=as_of)
    assert on_spark.ok, on_spark.failures
    return {"duckdb": duck, "spark": spark}


def test_every_mart_has_the_same_rows_on_spark_and_duckdb(both: dict[str, Path]) -> None:
    duck = marts(warehouse_path(both["duckdb"]))
    spark = marts(warehouse_path(both["spark"]))
    assert sorted(spark) == sorted(duck)
    assert len(duck) >= 14
    differ = []
    for name, (columns, rows) in duck.items():
        spark_columns, spark_rows = spark[name]
        if spark_columns != columns:
            differ.append(f"{name}: columns {spark_columns} != {columns}")
        elif spark_rows != rows:
            only_spark = set(spark_rows) - set(rows)
            only_duck = set(rows) - set(spark_rows)
            differ.append(
                f"{name}: {len(spark_rows)} rows on Spark, {len(rows)} on DuckDB; "
                f"only on Spark {sorted(only_spark, key=repr)[:2]}, "
                f"only on DuckDB {sorted(only_duck, key=repr)[:2]}"
            )
    assert not differ, "\n".join(differ)
    assert sum(len(rows) for _, rows in duck.values()) > 100


def test_the_gate_and_publish_take_sparks_warehouse(both: dict[str, Path]) -> None:
    from ingest.gate.runner import run_gate
    from ingest.publish.writer import publish

    root = both["spark"]
    gate = run_gate(root, registry=project_registry(root), data_docs=False)
    assert gate.passed, gate.failures
    # built as of a moment asked for: published as a version, `current` left as it was
    version = publish(root, gate)
    assert any(version.rglob("*.parquet")), version
