"""The warehouse build: expose the committed event log to dbt, then run dbt.

dbt reads the log through views in the `eventlog` schema of
`warehouse/build.duckdb`, one per feed plus the quarantine and the load
commits. The views name the committed files explicitly, so a build sees
exactly the loads committed when it started, whatever is appended meanwhile.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from ingest.contract import dbt_contract
from ingest.country_pack import PACKS_ENV, CountryPack, load_packs
from ingest.eventlog import EMPTY_EVENTS_SQL, EventLog, connect, retired_at_sql, sql_list
from ingest.paths import data_dir, private_dir
from ingest.registry import ENTITIES, Registry
from ingest.warehouse_tables import pack_tables, registry_tables

log = logging.getLogger(__name__)

PROJECT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"
EMPTY_QUARANTINE_SQL = """
SELECT CAST(NULL AS VARCHAR) AS feed_id, CAST(NULL AS VARCHAR) AS load_id,
       CAST(NULL AS VARCHAR) AS source_ref, CAST(NULL AS VARCHAR) AS raw,
       CAST(NULL AS VARCHAR) AS reason, CAST(NULL AS VARCHAR) AS message,
       CAST(NULL AS TIMESTAMPTZ) AS quarantined_at, CAST(NULL AS TIMESTAMPTZ) AS retired_at
WHERE false
"""


def warehouse_path(root: Path) -> Path:
    return root / "warehouse" / "build.duckdb"


def dbt_target_path(root: Path) -> Path:
    """dbt's artifacts (manifest.json, run_results.json) for the warehouse of `root`."""
    return warehouse_path(root).parent / "dbt-target"


def create_eventlog_views(con: duckdb.DuckDBPyConnection, root: Path, registry: Registry) -> None:
    """(Re)create the `eventlog` schema's views over what is committed now: one per
    entity (the events of every feed of that entity), all events, the ingest
    quarantine and the load commits."""
    eventlog = EventLog(root)
    con.execute("CREATE SCHEMA IF NOT EXISTS eventlog")
    for entity in ENTITIES:
        feeds = [f.id for f in registry.feeds if f.entity == entity]
        con.execute(
            f"CREATE OR REPLACE VIEW eventlog.{entity}_events AS "
            f"{eventlog.select_sql(feeds, include_retired=True) if feeds else EMPTY_EVENTS_SQL}"
        )
    con.execute(
        f"CREATE OR REPLACE VIEW eventlog.events AS {eventlog.select_sql(include_retired=True)}"
    )
    qfiles = eventlog.quarantine_files()
    retired = eventlog.retired()
    quarantine = (
        f"SELECT feed_id, load_id, source_ref, raw, reason, message, quarantined_at, "
        f"{retired_at_sql(retired)} AS retired_at "
        f"FROM read_parquet({sql_list(qfiles)}, hive_partitioning = true)"
        if qfiles
        else EMPTY_QUARANTINE_SQL
    )
    con.execute(f"CREATE OR REPLACE VIEW eventlog.quarantine AS {quarantine}")
    con.execute(
        "CREATE OR REPLACE TABLE eventlog.loads (load_id VARCHAR, feed_id VARCHAR, kind VARCHAR, "
        "committed_at TIMESTAMPTZ, recorded_at TIMESTAMPTZ, records_read BIGINT, "
        "events_appended BIGINT, duplicates BIGINT, quarantined BIGINT, sources INTEGER, "
        "retired_at TIMESTAMPTZ)"
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
            retired.get(c.load_id),
        )
        for c in eventlog.commits()
    ]
    if rows:
        con.executemany("INSERT INTO eventlog.loads VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)


def derivation_fingerprint(registry: Registry, root: Path) -> str:
    """A fingerprint of everything the warehouse's rows derive from besides the events:
    the feeds' contract, the mission, the country packs, the seeds, and which loads
    replays retired. When it changes, rows built before are stale: a full refresh."""
    digest = hashlib.sha256(dbt_vars(registry).encode())
    for pack in registry.country_packs:
        for path in sorted(Path(pack).glob("*")):
            digest.update(path.name.encode() + path.read_bytes())
    for seed in sorted((PROJECT_DIR / "seeds").glob("*.csv")):
        digest.update(seed.name.encode() + seed.read_bytes())
    digest.update(json.dumps(sorted(EventLog(root).retired())).encode())
    return digest.hexdigest()


AS_OF_BUILD = "as of "


def stale_reason(con: duckdb.DuckDBPyConnection, fingerprint: str) -> str | None:
    """Why rows built before cannot be kept (the warehouse has some and they derive from
    something else), else None."""
    _derivation_table(con)
    built = con.execute("SELECT fingerprint FROM state.build_derivation").fetchall()
    if not built:
        marts = con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'marts'"
        ).fetchone()[0]
        return "rows built before the hub recorded what they derive from" if marts else None
    if built[0][0].startswith(AS_OF_BUILD):
        return f"the last build was {built[0][0]}: its rows are of that moment"
    if built[0][0] != fingerprint:
        return (
            "feeds.yaml's contract, the mission, a country pack, a seed or a replay changed "
            "since the last build"
        )
    return None


def _derivation_table(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE SCHEMA IF NOT EXISTS state")
    con.execute("CREATE TABLE IF NOT EXISTS state.build_derivation (fingerprint VARCHAR)")


def record_derivation(root: Path, fingerprint: str) -> None:
    con = connect(warehouse_path(root))
    try:
        _derivation_table(con)
        con.execute("DELETE FROM state.build_derivation")
        con.execute("INSERT INTO state.build_derivation VALUES (?)", [fingerprint])
    finally:
        con.close()


def _replace_table(con: duckdb.DuckDBPyConnection, name: str, table: pa.Table) -> None:
    con.register("_incoming", table)
    try:
        con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM _incoming")
    finally:
        con.unregister("_incoming")


def create_registry_tables(con: duckdb.DuckDBPyConnection, registry: Registry) -> None:
    """The registry as data (schema `registry`): agencies, feeds and each feed's own
    code mappings. The agency dimension, staging and the gate read these."""
    con.execute("CREATE SCHEMA IF NOT EXISTS registry")
    for name, table in registry_tables(registry).items():
        _replace_table(con, f"registry.{name}", table)


def create_pack_tables(con: duckdb.DuckDBPyConnection, packs: list[CountryPack]) -> None:
    """The country packs' admin areas and places (schema `pack`)."""
    con.execute("CREATE SCHEMA IF NOT EXISTS pack")
    for name, table in pack_tables(packs).items():
        _replace_table(con, f"pack.{name}", table)


@dataclass
class NodeResult:
    """One dbt node as it finished: what the progress callback receives."""

    unique_id: str
    resource_type: str
    status: str
    seconds: float
    message: str | None = None
    failures: int | None = None


@dataclass
class BuildResult:
    ok: bool
    as_of: str
    invocation_id: str | None = None
    failures: list[str] = field(default_factory=list)
    nodes: int = 0
    seconds: float = 0.0
    # why the build was a full refresh though none was asked for (None: it was not)
    full_refresh_reason: str | None = None


NodeCallback = Callable[[NodeResult], None]
FAILED = ("error", "fail", "runtime error")


def dbt_env(root: Path, registry: Registry | None = None) -> dict[str, str]:
    packs = registry.country_packs if registry is not None else ()
    return {
        "PEACEOPS_WAREHOUSE": str(warehouse_path(root)),
        "PEACEOPS_DATA_DIR": str(root),
        # the point-in-area functions of the dbt plugin read the packs' boundaries
        PACKS_ENV: os.pathsep.join(str(p) for p in packs),
        # Never phone home, whatever the caller's environment says.
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
        "DO_NOT_TRACK": "1",
    }


@dataclass
class DbtRun:
    ok: bool
    invocation_id: str | None
    failures: list[str]
    nodes: int


def dbt_vars(registry: Registry, as_of: str | None = None) -> str:
    """The dbt vars of a run: the feeds' contract (staging reads it) and the as-of moment."""
    values: dict[str, object] = {
        "peaceops_contract": dbt_contract(registry),
        "mission_start": registry.mission.start.isoformat(),
        # in the fingerprint, so a new setting rebuilds every aggregate row
        "aggregate_releasability": registry.mission.aggregate_releasability,
        "aggregate_minimum_count": registry.mission.aggregate_minimum_count,
    }
    if as_of is not None:
        values["as_of"] = as_of
    return json.dumps(values)


def run_dbt(
    args: list[str],
    root: Path,
    on_node: NodeCallback | None = None,
    registry: Registry | None = None,
) -> DbtRun:
    """Run one dbt command in-process (dbtRunner) against the warehouse of `root`.

    `on_node` is called once per finished node (model, seed, test, ...), in the
    order dbt finishes them.
    """
    from dbt.cli.main import dbtRunner

    env = dbt_env(root, registry)
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    invocation: list[str] = []

    def callback(event) -> None:  # dbt's EventMsg
        if not invocation and getattr(event.info, "invocation_id", None):
            invocation.append(event.info.invocation_id)
        if on_node is None or event.info.name != "NodeFinished":
            return
        node = event.data.node_info
        run = event.data.run_result
        on_node(
            NodeResult(
                unique_id=node.unique_id,
                resource_type=node.resource_type,
                status=run.status or node.node_status,
                seconds=float(run.execution_time or 0.0),
                message=run.message or None,
                failures=run.num_failures if run.num_failures else None,
            )
        )

    try:
        runner = dbtRunner(callbacks=[callback])
        result = runner.invoke(
            [
                *args,
                "--project-dir",
                str(PROJECT_DIR),
                "--profiles-dir",
                str(PROJECT_DIR),
                # Artifacts and logs belong to the data directory's build, so that builds of
                # different data directories (tests, Airflow, a demo) never share them.
                "--target-path",
                str(dbt_target_path(root)),
                "--log-path",
                str(warehouse_path(root).parent / "dbt-logs"),
                "--quiet",
                "--no-send-anonymous-usage-stats",
            ]
        )
    finally:
        _close_duckdb()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    failures: list[str] = []
    nodes = 0
    res = result.result
    if res is not None and hasattr(res, "results"):
        nodes = len(res.results)
        for r in res.results:
            if str(r.status) in FAILED:
                failures.append(f"{r.node.unique_id}: {r.status}: {r.message}")
        metadata = getattr(res, "metadata", None)
        if metadata is not None and getattr(metadata, "invocation_id", None):
            invocation[:0] = [metadata.invocation_id]
    if result.exception is not None:
        failures.append(f"dbt {args[0]}: {result.exception}")
    return DbtRun(bool(result.success), invocation[0] if invocation else None, failures, nodes)


def _close_duckdb() -> None:
    """dbt-duckdb keeps its DuckDB connection open in-process after an invocation;
    close it so the warehouse file can be opened (read-only, or by the next build)."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    env = DuckDBConnectionManager._ENV
    if env is not None:
        close = getattr(env, "close", None)
        if close is not None:
            close()
    DuckDBConnectionManager.close_all_connections()


def parse_as_of(text: str) -> datetime:
    """`2026-11-05T12:00Z`, `2026-11-05T12:00:00+02:00`, `2026-11-05` -> aware UTC datetime."""
    value = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def build(
    root: Path | None = None,
    *,
    registry: Registry | None = None,
    as_of: datetime | None = None,
    full_refresh: bool = False,
    select: str | None = None,
    on_node: NodeCallback | None = None,
    on_step: Callable[[str], None] | None = None,
    test: bool = True,
) -> BuildResult:
    """Seed, run and test the dbt project on the committed log, as known at `as_of`.

    Without `as_of` the build is incremental (only new loads are processed) unless
    `full_refresh`; with `as_of` it is always a full refresh, so a past-moment build
    never mixes with increments built from later knowledge.
    """
    import time

    from ingest.registry import load_registry

    started = time.perf_counter()
    root = root or data_dir()
    registry = registry or load_registry(data_dir=root)
    packs = load_packs(registry.country_packs)
    private_dir(root, warehouse_path(root).parent)
    fingerprint = derivation_fingerprint(registry, root)
    con = connect(warehouse_path(root))
    try:
        create_eventlog_views(con, root, registry)
        create_registry_tables(con, registry)
        create_pack_tables(con, packs)
        stale = None if (full_refresh or as_of is not None) else stale_reason(con, fingerprint)
    finally:
        con.close()
    as_of_text = (as_of or datetime.now(UTC)).astimezone(UTC).isoformat()
    vars_ = dbt_vars(registry, as_of_text)
    result = BuildResult(ok=True, as_of=as_of_text, full_refresh_reason=stale)
    refresh = ["--full-refresh"] if (full_refresh or as_of is not None or stale) else []
    # One dbt invocation (each costs seconds of start-up): seeds (always reloaded, see
    # dbt_project.yml), models and, unless `test` is off, their tests.
    args = ["build", "--vars", vars_, *refresh]
    if not test:
        args += ["--exclude-resource-type", "test", "unit_test"]
    elif not refresh:
        # Unit tests check the models' SQL on fixed fixtures, not the data: the same code
        # gives the same verdict every run. Full refreshes (which a change of model code
        # calls for) and the test suite run them; the frequent incremental builds do not,
        # as dbt advises for production runs.
        args += ["--exclude-resource-type", "unit_test"]
    if select:
        args += ["--select", f"{select} resource_type:seed"]
    if on_step:
        shown = [a for a in args if a != vars_]
        shown[shown.index("--vars")] = f"(as_of {as_of_text})"
        on_step(" ".join(shown))
    run = run_dbt(args, root, on_node, registry)
    if run.ok and select is None:  # a partial build does not make the rest current
        record_derivation(root, fingerprint if as_of is None else AS_OF_BUILD + as_of_text)
    result.nodes = run.nodes
    result.failures = run.failures
    result.invocation_id = run.invocation_id
    result.ok = run.ok
    result.seconds = time.perf_counter() - started
    return result
