"""The Spark row: the warehouse's full build on Spark local[2] (ingest.warehouse.spark) against
DuckDB's full build of the same log, its floor. Alone:
`python -m bench --quick --events --resolution --spark 1000000` (needs the `spark` extra
and Java 17: `make spark-test` installs both)."""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import asdict
from pathlib import Path

from bench import warehouse
from bench.common import Row
from bench.stages import in_child


def spark_build(root: Path) -> dict[str, float]:
    """A full build on Spark (models and tests); where its seconds went."""
    from ingest.warehouse.spark import SparkTiming, build

    timing = SparkTiming()
    built = build(root, registry=warehouse.settings(root).registry, timing=timing)
    if not built.ok:
        raise RuntimeError(f"Spark build failed: {built.failures[:3]}")
    return {**asdict(timing), "nodes": built.nodes}


def run(events_target: int) -> list[Row]:
    days = max(1, round(events_target / warehouse.RECORDS_PER_DAY))
    root = Path(tempfile.mkdtemp(prefix="peaceops-bench-spark-"))
    try:
        in_child(warehouse.generate, root, days)
        events, _, _ = in_child(warehouse.ingest, root)
        label = f"{events / 1e6:.2g}M events"
        _, duck_s, _ = in_child(warehouse.build, root, True)
        spent, spark_s, _ = in_child(spark_build, root)
        parts = {f"{k}_s": f"{v:.0f}" for k, v in spent.items() if k != "nodes"}
        return [
            Row("build-spark", f"{label}, Spark local[2]", spark_s, duck_s,
                {"floor": "DuckDB full build", "dbt_nodes": spent["nodes"], **parts}),
        ]  # fmt: skip
    finally:
        shutil.rmtree(root, ignore_errors=True)
