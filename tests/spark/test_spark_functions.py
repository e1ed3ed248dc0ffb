"""On Spark, the SQL names the models call give DuckDB's values (issue 22): the Python
stand-ins of DuckDB built-ins (ingest.warehouse.duckdb_functions) as registered on a real
Spark session, not Spark's own functions of the same names.

Spark 4.3 added a built-in `jaro_winkler_similarity` that gives other values than DuckDB's
and takes precedence over a session function of that name; the models call DuckDB's
through macro `jaro_winkler`, registered on Spark as `duckdb_jaro_winkler_similarity`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pyarrow as pa
import pytest

from ingest.sessions import connect
from tests.unit.test_duckdb_functions import _names

pytestmark = [pytest.mark.spark, pytest.mark.slow]


@pytest.fixture(scope="module")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from ingest.warehouse.spark import register_udfs, spark_session

    session = spark_session(tmp_path_factory.mktemp("spark"))
    register_udfs(session, ())
    yield session
    session.stop()


def _pairs() -> pa.Table:
    names = _names()
    pairs = [(a, b) for a in names[:40] for b in names[:40]]
    pairs += [(n, n[:1] + n[2:1] + n[1:2] + n[2:]) for n in names]  # a swap
    pairs += [("p100", "p068"), ("martha", "marhta"), ("", "a"), ("", ""), (None, "a")]
    return pa.table(
        {
            "a": pa.array([a for a, _ in pairs], pa.string()),
            "b": pa.array([b for _, b in pairs], pa.string()),
        }
    )


def _duckdb(sql: str, table: pa.Table) -> list[tuple]:
    con = connect()
    try:
        con.register("t", table)
        return con.sql(sql).fetchall()
    finally:
        con.close()


def test_the_functions_the_models_call_on_spark_are_duckdbs(spark: Any) -> None:
    pairs = _pairs()
    spark.createDataFrame(pairs).createOrReplaceTempView("pairs")
    on_spark = [
        tuple(row)
        for row in spark.sql(
            "SELECT duckdb_jaro_winkler_similarity(a, b), damerau_levenshtein(a, b), "
            "strip_accents(a) FROM pairs"
        ).collect()
    ]
    on_duckdb = _duckdb(
        "SELECT jaro_winkler_similarity(a, b), damerau_levenshtein(a, b), strip_accents(a) FROM t",
        pairs,
    )
    assert on_spark == on_duckdb


def test_sparks_own_jaro_winkler_is_not_duckdbs(spark: Any) -> None:
    """Why the stand-in has a name of its own: if this fails, Spark's built-in gives
    DuckDB's values and the models could call it instead."""
    pairs = _pairs()
    spark.createDataFrame(pairs).createOrReplaceTempView("pairs")
    on_spark = [
        r[0] for r in spark.sql("SELECT jaro_winkler_similarity(a, b) FROM pairs").collect()
    ]
    on_duckdb = [r[0] for r in _duckdb("SELECT jaro_winkler_similarity(a, b) FROM t", pairs)]
    assert on_spark != on_duckdb


def test_a_recursive_walk_over_more_than_a_million_events_runs(spark: Any) -> None:
    """int_events_keyed's supersedes walk starts from one row per event: Spark's default
    limit on a recursive CTE's rows (1,000,000) failed the build at 1M events."""
    walked = spark.sql(
        "WITH RECURSIVE steps (id, depth) AS ("
        " SELECT id, 0 FROM range(1000001)"
        " UNION ALL SELECT id, depth + 1 FROM steps WHERE depth < 1 AND id = 0"
        ") SELECT count(*) FROM steps"
    ).collect()
    assert walked[0][0] == 1_000_002
