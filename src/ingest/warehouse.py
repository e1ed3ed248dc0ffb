"""The warehouse build: expose the committed event log to dbt, then run dbt.

dbt reads the log through views in the `eventlog` schema of
`warehouse/build.duckdb`, one per feed plus the quarantine and the load
commits. The views name the committed files explicitly, so a build sees
exactly the loads committed when it started, whatever is appended meanwhile.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from ingest.eventlog import EventLog, sql_list
from ingest.paths import data_dir

log = logging.getLogger(__name__)

PROJECT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"
EMPTY_QUARANTINE_SQL = """
SELECT CAST(NULL AS VARCHAR) AS feed_id, CAST(NULL AS VARCHAR) AS load_id,
       CAST(NULL AS VARCHAR) AS source_ref, CAST(NULL AS VARCHAR) AS raw,
       CAST(NULL AS VARCHAR) AS reason, CAST(NULL AS VARCHAR) AS message,
       CAST(NULL AS TIMESTAMPTZ) AS quarantined_at
WHERE false
"""


def warehouse_path(root: Path) -> Path:
    return root / "warehouse" / "build.duckdb"


def source_table(feed_id: str) -> str:
    """`unmic.sitreps` -> `unmic__sitreps`: the dbt source table of a feed."""
    return feed_id.replace(".", "__")


def create_eventlog_views(
    con: duckdb.DuckDBPyConnection, root: Path, feed_ids: Iterable[str]
) -> None:
    """(Re)create the `eventlog` schema's views over what is committed now."""
    eventlog = EventLog(root)
    con.execute("CREATE SCHEMA IF NOT EXISTS eventlog")
    for feed_id in feed_ids:
        con.execute(
            f"CREATE OR REPLACE VIEW eventlog.{source_table(feed_id)} AS {eventlog.select_sql(feed_id)}"
        )
    con.execute(f"CREATE OR REPLACE VIEW eventlog.events AS {eventlog.select_sql()}")
    qfiles = eventlog.quarantine_files()
    quarantine = (
        f"SELECT feed_id, load_id, source_ref, raw, reason, message, quarantined_at "
        f"FROM read_parquet({sql_list(qfiles)}, hive_partitioning = true)"
        if qfiles
        else EMPTY_QUARANTINE_SQL
    )
    con.execute(f"CREATE OR REPLACE VIEW eventlog.quarantine AS {quarantine}")
    con.execute(
        "CREATE OR REPLACE TABLE eventlog.loads (load_id VARCHAR, feed_id VARCHAR, kind VARCHAR, "
        "committed_at TIMESTAMPTZ, recorded_at TIMESTAMPTZ, records_read BIGINT, "
        "events_appended BIGINT, duplicates BIGINT, quarantined BIGINT, sources INTEGER)"
    )
    rows = [
        (
            c.load_id,
            c.feed_id,
            c.kind,
            c.committed_at,
            c.recorded_at,
            c.counts.get("read", 0),
            c.counts.get("appended", 0),
            c.counts.get("duplicates", 0),
            c.counts.get("quarantined", 0),
            len(c.sources),
        )
        for c in eventlog.commits()
    ]
    if rows:
        con.executemany("INSERT INTO eventlog.loads VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)


@dataclass
class BuildResult:
    ok: bool
    as_of: str
    invocation_id: str | None = None
    failures: list[str] = field(default_factory=list)
    nodes: int = 0


NodeCallback = Callable[[str, str, float], None]


def dbt_env(root: Path) -> dict[str, str]:
    return {"PEACEOPS_WAREHOUSE": str(warehouse_path(root)), "PEACEOPS_DATA_DIR": str(root)}


def run_dbt(
    args: list[str], root: Path, on_node: NodeCallback | None = None
) -> tuple[bool, str | None, list[str], int]:
    """Run one dbt command in-process; returns (ok, invocation id, failures, nodes)."""
    import os

    from dbt.cli.main import dbtRunner

    os.environ.update(dbt_env(root))
    failures: list[str] = []

    def callback(event) -> None:  # dbt's EventMsg
        name = event.info.name
        if name == "NodeFinished" and on_node is not None:
            node = event.data.node_info
            on_node(node.unique_id, node.node_status, 0.0)

    runner = dbtRunner(callbacks=[callback])
    result = runner.invoke(
        [*args, "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR), "--quiet"]
    )
    invocation = None
    nodes = 0
    if result.result is not None and hasattr(result.result, "results"):
        nodes = len(result.result.results)
        for r in result.result.results:
            if str(r.status) in ("error", "fail", "runtime error"):
                failures.append(f"{r.node.unique_id}: {r.message}")
        invocation = (
            getattr(result.result.args, "invocation_id", None)
            if hasattr(result.result, "args")
            else None
        )
    if result.exception is not None:
        failures.append(f"dbt {args[0]}: {result.exception}")
    return result.success, invocation, failures, nodes


def build(
    root: Path | None = None,
    *,
    as_of: datetime | None = None,
    full_refresh: bool = False,
    select: str | None = None,
    feed_ids: Iterable[str] | None = None,
    on_node: NodeCallback | None = None,
) -> BuildResult:
    """Seed, run and test the dbt project on the committed log, as known at `as_of`."""
    from ingest.registry import load_registry

    root = root or data_dir()
    if feed_ids is None:
        feed_ids = [f.id for f in load_registry(data_dir=root)]
    warehouse_path(root).parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(warehouse_path(root)))
    try:
        con.execute("SET TimeZone = 'UTC'")
        create_eventlog_views(con, root, feed_ids)
    finally:
        con.close()
    as_of_text = (as_of or datetime.now(UTC)).astimezone(UTC).isoformat()
    vars_ = json.dumps({"as_of": as_of_text})
    result = BuildResult(ok=True, as_of=as_of_text)
    steps = [["seed"], ["build", "--vars", vars_]]
    if full_refresh or as_of is not None:
        # A past-moment build must not mix with increments built from later knowledge.
        steps = [[*s, "--full-refresh"] for s in steps]
    if select:
        steps[-1] += ["--select", select]
    for args in steps:
        ok, invocation, failures, nodes = run_dbt(args, root, on_node)
        result.nodes += nodes
        result.failures += failures
        result.invocation_id = invocation or result.invocation_id
        if not ok:
            result.ok = False
            break
    return result
