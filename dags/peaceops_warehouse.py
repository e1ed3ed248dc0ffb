"""The warehouse DAG: dbt build, then the quality gate, then publish.

Scheduled on the feed Assets with OR logic: any feed's new load triggers a
build, so a broken feed never holds the others back (its data simply stays as
last loaded, and `peaceops status` shows it stale).
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import Asset, AssetAny, dag, task

from ingest.orchestration import (
    DUCKDB_POOL,
    MAX_RETRY_DELAY,
    PUBLISHED_ASSET_URI,
    RETRY_BACKOFF,
    RETRY_DELAY,
    START_DATE,
    feed_asset_uri,
    load_feeds,
)

FEED_IDS = [f.id for f in load_feeds()]
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
    tags=["peaceops", "warehouse", "dbt", "gate", "publish"],
    doc_md=DOC,
    default_args={
        "owner": "peaceops",
        "pool": DUCKDB_POOL,
        "retries": 2,
        "retry_delay": RETRY_DELAY,
        "retry_exponential_backoff": RETRY_BACKOFF,
        "max_retry_delay": MAX_RETRY_DELAY,
    },
)
def peaceops_warehouse() -> None:
    @task(task_id="build")
    def build() -> dict[str, Any]:
        from ingest.orchestration import pin_paths, run_build

        return run_build(pin_paths())

    @task(task_id="gate")
    def gate(built: dict[str, Any]) -> dict[str, Any]:
        # `built` only orders the gate after a successful build; the gate reads the warehouse.
        from airflow.sdk.exceptions import AirflowFailException

        from ingest.orchestration import GateFailed, pin_paths, run_gate_check

        try:
            return run_gate_check(pin_paths())
        except GateFailed as err:
            raise AirflowFailException(str(err)) from err

    @task(task_id="publish", outlets=[PUBLISHED])
    def publish(checked: dict[str, Any], outlet_events: Any = None) -> dict[str, Any]:
        from ingest.orchestration import pin_paths, run_publish

        published = run_publish(checked, pin_paths())
        outlet_events[PUBLISHED].extra = published
        return published

    publish(gate(build()))


peaceops_warehouse()
