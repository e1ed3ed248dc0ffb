"""The gate leaves not-null, unique and the vocabularies to dbt's tests, so it refuses a
warehouse whose rows they did not all see: a `build --no-test`, or an incremental build
after one (it tests only the rows it writes), until a full refresh with its tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.gate import run_gate
from ingest.lab.simulate import simulate
from ingest.warehouse.runner import build, built_state, warehouse_path
from tests.warehouse.logbuilder import ingest_simulation, project_registry

CHECK = "built with dbt's tests"


def _refused(root: Path) -> list[str]:
    result = run_gate(root, data_docs=False)
    return [f.message or "" for f in result.failures if f.expectation == CHECK]


@pytest.mark.slow
def test_rows_dbt_did_not_test_are_refused_until_a_tested_full_refresh(tmp_path: Path) -> None:
    simulate(tmp_path / "sim", seed=7, days=1)
    ingest_simulation(tmp_path)
    registry = project_registry(tmp_path)

    assert build(tmp_path, registry=registry, test=False).ok
    assert built_state(warehouse_path(tmp_path)).tested is False
    (message,) = _refused(tmp_path)
    assert "build --no-test" in message

    # tested, but incremental: the rows the untested build wrote were never tested
    again = build(tmp_path, registry=registry)
    assert again.ok and built_state(warehouse_path(tmp_path)).mode == "incremental"
    assert built_state(warehouse_path(tmp_path)).tested is False
    assert _refused(tmp_path)

    assert build(tmp_path, registry=registry, full_refresh=True).ok
    assert built_state(warehouse_path(tmp_path)).tested is True
    assert _refused(tmp_path) == []
    # an incremental build after a tested one keeps every row tested
    assert build(tmp_path, registry=registry).ok
    assert built_state(warehouse_path(tmp_path)).tested is True


def test_a_warehouse_that_does_not_say_is_refused(tmp_path: Path) -> None:
    """A state recorded before `tested` was (its table has no such column)."""
    import duckdb

    from tests.gate.factory import make_warehouse

    make_warehouse(warehouse_path(tmp_path), rows=8)
    con = duckdb.connect(str(warehouse_path(tmp_path)))
    con.execute("CREATE SCHEMA IF NOT EXISTS state")
    con.execute(
        "CREATE OR REPLACE TABLE state.build AS SELECT 'b1' AS build_id, now() AS as_of, "
        "'full-refresh' AS mode, 'f' AS fingerprint, NULL AS invocation_id, now() AS built_at"
    )
    con.close()
    assert built_state(warehouse_path(tmp_path)).tested is None
    (message,) = _refused(tmp_path)
    assert "does not say" in message
