"""Daily maintenance: compact the event log, prune old published versions, check every
mart of the warehouse, write the quarantine digest of the day."""

from __future__ import annotations

from typing import Any

from airflow.sdk import Param, dag, task
from peaceops_policy import (
    DAGRUN_TIMEOUT,
    DUCKDB_POOL,
    EXECUTION_TIMEOUT,
    START_DATE,
    default_args,
    on_failure,
)

from ingest.settings import Settings

DOC = """
### Maintenance (daily)

- **compact**: per feed in the log, merge the log's small Parquet files into one
  (`EventLog.compact`: same rows and ids, one atomic commit). It deletes the
  replaced files, so it takes the `peaceops_duckdb` slot and never runs under a
  warehouse build that is reading them.
- **prune**: keep the newest `keep_versions` published versions (`ingest.publish.writer.prune`),
  in the same slot so it never races a publish. Left empty, `keep_versions` is the
  setting in `expectations/gate.yml`, as for `peaceops publish`.
- **gate_all**: the quality gate on every mart (`peaceops check --all`). After an
  incremental build the warehouse DAG's gate validates only the marts whose checked
  columns changed and carries the others' last pass over (`ingest.gate.carry`, at most
  `recheck_hours`); this run validates them all again and renews their passes. A
  failure fails the task (the current version stays as it is, and the mart that failed
  has no pass to carry, so the next warehouse gate validates it and stops the publish).
  In the same slot, so it never shares the gate's working folder with the warehouse DAG.
- **quarantine_digest**: `reports/quarantine-<date>.md` and `.json` for the loads
  committed on the day that just ended (a manual run: today so far): counts per
  agency, feed and reason, with examples. Read-only, so outside the pool.
"""


@dag(
    dag_id="peaceops_maintenance",
    description="Compact the event log, prune published versions, whole gate, quarantine digest",
    schedule="@daily",
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=DAGRUN_TIMEOUT["maintenance"],
    on_failure_callback=on_failure,
    tags=["peaceops", "maintenance"],
    doc_md=DOC,
    # None: the setting in expectations/gate.yml, read when the task runs (a DAG file does
    # no I/O when parsed), so the CLI, the warehouse DAG and this one keep as many.
    params={"keep_versions": Param(None, type=["null", "integer"], minimum=1)},
    default_args=default_args("peaceops"),
)
def peaceops_maintenance() -> None:
    @task(task_id="compact", pool=DUCKDB_POOL, execution_timeout=EXECUTION_TIMEOUT["compact"])
    def compact() -> dict[str, int]:
        """Files merged per feed (0 = nothing to do)."""
        from ingest import stages

        done = stages.compact(Settings.resolve(), strict=True)
        return {c.feed_id: len(c.commit.removes) if c.commit else 0 for c in done}

    @task(task_id="prune", pool=DUCKDB_POOL, execution_timeout=EXECUTION_TIMEOUT["prune"])
    def prune(params: Any = None) -> list[str]:
        from ingest import stages

        keep = (params or {}).get("keep_versions")
        settings = Settings.resolve(keep_versions=None if keep is None else int(keep))
        return [str(p) for p in stages.prune(settings)]

    @task(task_id="gate_all", pool=DUCKDB_POOL, execution_timeout=EXECUTION_TIMEOUT["gate_all"])
    def gate_all() -> dict[str, Any]:
        """Every mart validated; the gate's short summary."""
        from airflow.sdk.exceptions import AirflowFailException

        from ingest import stages

        try:
            return stages.check(Settings.resolve(), whole=True, strict=True).summary()
        except stages.GateFailed as err:
            raise AirflowFailException(str(err)) from err

    @task(task_id="quarantine_digest", execution_timeout=EXECUTION_TIMEOUT["quarantine_digest"])
    def quarantine_digest(data_interval_end: Any = None, logical_date: Any = None) -> dict:
        from ingest import stages

        # Cron schedules trigger at the end of the day they cover: the digest is of
        # the day that just ended (or, for a manual run, of today so far).
        return stages.digest(Settings.resolve(), data_interval_end or logical_date)

    # The gate first: the warehouse reads the event files it was built from, which
    # compaction deletes (until the next build reads the merged ones).
    gate_all() >> compact() >> prune()
    quarantine_digest()


peaceops_maintenance()
