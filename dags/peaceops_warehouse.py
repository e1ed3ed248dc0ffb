"""The warehouse DAG: dbt build, then the quality gate, then publish.

Scheduled on the feed Assets with OR logic: any feed's new load triggers a
build, so a broken feed never holds the others back (its data simply stays as
last loaded, and `peaceops status` shows it stale).
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import Asset, AssetAny, dag, task
from peaceops_policy import (
    DAGRUN_TIMEOUT,
    DUCKDB_POOL,
    EXECUTION_TIMEOUT,
    PUBLISHED_ASSET_URI,
    START_DATE,
    default_args,
    feed_asset_uri,
    on_failure,
)

from ingest.settings import Settings

FEED_IDS = [f.id for f in Settings.resolve().registry.feeds]
FEED_ASSETS = [
    Asset(uri=feed_asset_uri(feed_id), name=f"eventlog.{feed_id}", group="peaceops")
    for feed_id in FEED_IDS
]
PUBLISHED = Asset(uri=PUBLISHED_ASSET_URI, name="published.current", group="peaceops")

DOC = """
### Warehouse: build → gate → publish

Runs whenever **any** feed's Asset gets a new load (`AssetAny` of
`peaceops://eventlog/<feed>`), at most one run at a time, every step in the
one-slot pool `peaceops_duckdb` (DuckDB takes one writer per file; compaction
and pruning take the same slot).

1. **build**: `ingest.warehouse.runner.build` (dbt seed + dbt build, incremental) on the
   committed log. One task, not one task per model with astronomer-cosmos,
   because: the warehouse is a single DuckDB file with a single writer, so
   per-model tasks could not run in parallel anyway; dbt already orders and
   tests its own DAG and reports every node in the task log; and cosmos would
   have to render the dbt project when Airflow parses this file (or carry a
   pre-built manifest), needs the `dbt` executable on PATH and phones home by
   default, while this file parses in milliseconds. dbt docs remain the
   per-model view.
2. **gate**: the Great Expectations suites (`ingest.gate.run_gate`). A failed
   gate fails the task without retries (the data will not change by waiting)
   and nothing is published: the last good version stays current.
3. **publish**: a new `published/<version>/`, switched to `published/current`
   atomically; outlet `peaceops://published/current` with the version as extra.
"""


@dag(
    dag_id="peaceops_warehouse",
    description="dbt build, Great Expectations gate, publish",
    schedule=AssetAny(*FEED_ASSETS),
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=DAGRUN_TIMEOUT["warehouse"],
    on_failure_callback=on_failure,
    tags=["peaceops", "warehouse", "dbt", "gate", "publish"],
    doc_md=DOC,
    default_args={**default_args("peaceops"), "pool": DUCKDB_POOL},
)
def peaceops_warehouse() -> None:
    @task(task_id="build", execution_timeout=EXECUTION_TIMEOUT["build"])
    def build() -> dict[str, Any]:
        from ingest import stages

        result = stages.build(Settings.resolve(), strict=True)
        return {
            "ok": result.ok,
            "as_of": result.as_of,
            "invocation_id": result.invocation_id,
            "nodes": result.nodes,
            "seconds": round(result.seconds, 1),
        }

    @task(task_id="gate", execution_timeout=EXECUTION_TIMEOUT["gate"])
    def gate(built: dict[str, Any]) -> dict[str, Any]:
        # `built` only orders the gate after a successful build; the gate reads the warehouse.
        # Returns the GateResult as JSON-safe data, for the publish task (XCom).
        import json

        from airflow.sdk.exceptions import AirflowFailException

        from ingest import stages

        try:
            return json.loads(stages.check(Settings.resolve(), strict=True).to_json())
        except stages.GateFailed as err:
            raise AirflowFailException(str(err)) from err

    @task(task_id="publish", outlets=[PUBLISHED], execution_timeout=EXECUTION_TIMEOUT["publish"])
    def publish(checked: dict[str, Any], outlet_events: Any = None) -> dict[str, Any]:
        from ingest import stages
        from ingest.gate import GateResult

        version = stages.publish(Settings.resolve(), GateResult.from_dict(checked))
        published = {"version": version.name, "path": str(version)}
        outlet_events[PUBLISHED].extra = published
        return published

    publish(gate(build()))


peaceops_warehouse()
