"""Daily maintenance: compact the event log, prune old published versions, write the
quarantine digest of the day."""

from __future__ import annotations

from typing import Any

from airflow.sdk import Param, dag, task

from ingest.orchestration import (
    DUCKDB_POOL,
    MAX_RETRY_DELAY,
    RETRY_BACKOFF,
    RETRY_DELAY,
    START_DATE,
    load_feeds,
)

FEED_IDS = [f.id for f in load_feeds()]

DOC = """
### Maintenance (daily)

- **compact**: per feed, merge the log's small Parquet files into one
  (`EventLog.compact`: same rows and ids, one atomic commit). It deletes the
  replaced files, so it takes the `peaceops_duckdb` slot and never runs under a
  warehouse build that is reading them.
- **prune**: keep the newest `keep_versions` published versions (`ingest.publish.writer.prune`),
  in the same slot so it never races a publish. Left empty, `keep_versions` is the
  setting in `expectations/gate.yml`, as for `peaceops publish`.
- **quarantine_digest**: `reports/quarantine-<date>.md` and `.json` for the loads
  committed on the day that just ended (a manual run: today so far): counts per
  agency, feed and reason, with examples. Read-only, so outside the pool.
"""


@dag(
    dag_id="peaceops_maintenance",
    description="Compact the event log, prune published versions, quarantine digest",
    schedule="@daily",
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    tags=["peaceops", "maintenance"],
    doc_md=DOC,
    # None: the setting in expectations/gate.yml, read when the task runs (a DAG file does
    # no I/O when parsed), so the CLI, the warehouse DAG and this one keep as many.
    params={"keep_versions": Param(None, type=["null", "integer"], minimum=1)},
    default_args={
        "owner": "peaceops",
        "retries": 2,
        "retry_delay": RETRY_DELAY,
        "retry_exponential_backoff": RETRY_BACKOFF,
        "max_retry_delay": MAX_RETRY_DELAY,
    },
)
def peaceops_maintenance() -> None:
    @task(task_id="compact", pool=DUCKDB_POOL)
    def compact() -> dict[str, int]:
        from ingest.orchestration import pin_paths, run_compaction

        return run_compaction(pin_paths(), FEED_IDS)

    @task(task_id="prune", pool=DUCKDB_POOL)
    def prune(params: Any = None) -> list[str]:
        from ingest.orchestration import pin_paths, run_prune

        keep = (params or {}).get("keep_versions")
        return run_prune(pin_paths(), None if keep is None else int(keep))

    @task(task_id="quarantine_digest")
    def quarantine_digest(data_interval_end: Any = None, logical_date: Any = None) -> dict:
        from ingest.orchestration import pin_paths, run_digest

        # Cron schedules trigger at the end of the day they cover: the digest is of
        # the day that just ended (or, for a manual run, of today so far).
        return run_digest(data_interval_end or logical_date, pin_paths())

    compact() >> prune()
    quarantine_digest()


peaceops_maintenance()
