"""The same dbt project on Spark (dbt-spark, `method: session`), over the same event log.

`python -m ingest.warehouse.spark [--data-dir D] [--as-of T] [--master local[2]]` builds the
warehouse of a data directory on Spark instead of DuckDB, always as a full refresh
(tables; incremental builds on Spark are a later step: docs/beyond-one-machine.md):

1. a Spark session on loopback only (no UI, no Ivy, no package downloads), which
   dbt-spark's session method then picks up (`SparkSession.builder.getOrCreate`);
2. the Python functions of `ingest.warehouse.plugins` registered on it unchanged, as Arrow
   UDFs (`arrow_udf`: the same `pa.Array` in and out as the DuckDB plugin);
3. the sources dbt reads, as global temporary views `global_temp.<source>__<table>`
   (macro `source`, dbt_project/macros/spark.sql): the events of exactly the files the
   log's commit records list for the build's snapshot (`committed_files`), never a
   half-written load; the loads, the registry and the packs from the same tables the
   DuckDB build makes (`ingest.warehouse.runner.prepare_build_file`); each entity's
   events with the columns its feeds' contract reads from the payload (`staged`);
4. `dbt build --target spark` in-process (dbtRunner), all but the staging unit tests (they
   give the contract as DuckDB SQL; here it ran in step 3);
5. the seam to the gate and publish: every mart, seed and review table is written by
   Spark as Parquet and read into a DuckDB warehouse file laid out as the DuckDB build's
   (schemas `marts`, `seeds`, `review`, the folded models, plus `eventlog.loads`,
   `registry`, `pack`, `state.build`, the verification record), which replaces
   `warehouse/build.duckdb` only when every model and test passed. `peaceops check` and `peaceops publish` then read it as they read a
   DuckDB build: they never know which engine built it.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from ingest.feeds.registry import ENTITIES, Registry
from ingest.log.eventlog import EventLog
from ingest.settings import Settings
from ingest.sql import literal

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from ingest.warehouse.runner import BuildResult, NodeCallback

# What Spark may bind and reach: loopback only (the hub talks to nothing else).
LOOPBACK = "127.0.0.1"
# Schemas dbt builds on Spark that are copied back into the DuckDB warehouse for the gate,
# publish and analysts: the marts, the seeds (the gate's vocabularies), the review queues.
MART_SCHEMA = "marts"
COPIED_SCHEMAS = (MART_SCHEMA, "seeds", "review")
# ... and of the other schemas, the tables the gate reads: the folded models, whose events the
# reconciliation suite accounts for (ingest.gate.marts.FOLDED)
COPIED_TABLES = {
    "intermediate": (
        "int_incidents_folded",
        "int_deliveries_folded",
        "int_patrols_folded",
        "int_presence_folded",
    )
}
SOURCE_SCHEMAS = ("eventlog", "registry", "pack")
# dbt tag of the tests that only a DuckDB build runs (see `build`)
DUCKDB_CONTRACT_TAG = "duckdb_contract"


def spark_conf(
    workdir: Path, master: str = "local[2]", settings: Settings | None = None
) -> dict[str, str]:
    """The session's settings: loopback only, no UI, nothing downloaded, UTC, its
    catalog in memory and its tables under `workdir`; its shuffle partitions and driver
    memory those of `settings` (default: resolved from the process's environment)."""
    settings = settings or Settings.resolve()
    return {
        "spark.master": master,
        "spark.app.name": "peaceops-dbt",
        "spark.driver.host": LOOPBACK,
        "spark.driver.bindAddress": LOOPBACK,
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        # no Hive metastore (Derby files in the working directory): the catalog lives
        # as long as the session, which is as long as a full-refresh build needs
        "spark.sql.catalogImplementation": "in-memory",
        "spark.sql.warehouse.dir": str(workdir / "spark-warehouse"),
        "spark.local.dir": str(workdir / "spark-tmp"),
        "spark.sql.session.timeZone": "UTC",
        "spark.driver.extraJavaOptions": "-Duser.timezone=UTC",
        "spark.executor.extraJavaOptions": "-Duser.timezone=UTC",
        "spark.sql.shuffle.partitions": str(settings.spark_partitions),
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        # the copy to DuckDB goes through Parquet (copy_marts): timestamps as
        # microseconds marked UTC, which DuckDB reads as timestamptz, not legacy INT96
        "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
        # int_events_keyed walks supersedes chains with a recursive CTE whose rows start
        # at one per event (its depth is capped in SQL); Spark's default cap of 1,000,000
        # rows failed the build at 1M events
        "spark.sql.cteRecursionRowLimit": "-1",
        "spark.driver.memory": settings.spark_memory,
    }


def spark_env() -> dict[str, str]:
    """The environment of the JVM and its Python workers: loopback, the project's own
    Python for UDF workers, and no usage statistics."""
    return {
        "SPARK_LOCAL_IP": LOOPBACK,
        "SPARK_LOCAL_HOSTNAME": "localhost",
        "PYSPARK_PYTHON": sys.executable,
        "PYSPARK_DRIVER_PYTHON": sys.executable,
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
        "DO_NOT_TRACK": "1",
    }


def spark_session(
    workdir: Path, master: str = "local[2]", settings: Settings | None = None
) -> SparkSession:
    """A local Spark session as dbt-spark's session method would make it, but ours first:
    its `getOrCreate` then returns this one, with our settings and functions."""
    from pyspark.sql import SparkSession

    os.environ.update(spark_env())
    builder = SparkSession.builder
    for key, value in spark_conf(workdir, master, settings).items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


def register_udfs(spark: SparkSession, packs: tuple[str, ...]) -> None:
    """The functions `ingest.warehouse.plugins.register` gives DuckDB, given to Spark SQL under
    the same names, from the same Python functions (vectorised over Arrow batches)."""
    from pyspark.sql import functions

    from ingest.warehouse import duckdb_functions
    from ingest.warehouse import plugins as p

    udfs: list[tuple[str, Any, str]] = [
        ("mgrs_to_lat", p.mgrs_to_lat, "double"),
        ("mgrs_to_lon", p.mgrs_to_lon, "double"),
        ("admin2_at", p.make_area_at(packs, 2), "string"),
        ("admin1_at", p.make_area_at(packs, 1), "string"),
        ("collapse_doubles", p.collapse_doubles, "string"),
        # DuckDB built-ins Spark lacks
        ("strip_accents", duckdb_functions.strip_accents, "string"),
        ("damerau_levenshtein", duckdb_functions.damerau_levenshtein, "bigint"),
        # Spark 4.3 has a jaro_winkler_similarity of its own, which gives other values and
        # would take precedence: the models call DuckDB's through macro jaro_winkler
        ("duckdb_jaro_winkler_similarity", duckdb_functions.jaro_winkler_similarity, "double"),
    ]
    # pyspark's overloads of arrow_udf want its function-type constant, which the call
    # leaves to the default (scalar): typed loosely, as when the extra is not installed
    arrow_udf: Any = functions.arrow_udf
    for name, fn, returns in udfs:
        if spark.catalog.functionExists(name):
            # a built-in of that name is what Spark SQL would call, not this function
            raise RuntimeError(f"Spark has a built-in {name}: register DuckDB's under another name")
        udf = arrow_udf(_arrays(fn), returns)
        # The expensive ones are marked nondeterministic so that Spark computes a CTE that
        # calls one once, not once per reference (it inlines deterministic CTEs, and macro
        # `locate` reads its CTEs up to eight times over). They are deterministic: the mark
        # only stops the copies. strip_accents is cheap, and join conditions need it as is;
        # Spark refuses a nondeterministic function inside an aggregate, where
        # review_name_matches calls Jaro-Winkler (max_by).
        deterministic = name in ("strip_accents", "duckdb_jaro_winkler_similarity")
        spark.udf.register(name, udf if deterministic else udf.asNondeterministic())


def _arrays(fn: Any) -> Any:
    """`fn` over pa.Array with a signature arrow_udf accepts (it reads type hints)."""

    def call(*columns: pa.Array) -> pa.Array:
        return fn(*(c.combine_chunks() if isinstance(c, pa.ChunkedArray) else c for c in columns))

    call.__name__ = getattr(fn, "__name__", "udf")
    return call


@dataclass(frozen=True)
class CommittedFiles:
    """What one snapshot of the log lists as committed: the event files per entity (of
    every feed feeds.yaml declares for it) and of all feeds, and the quarantine files.
    Paths are absolute; nothing else under the log's folder is read."""

    events: list[Path]
    by_entity: dict[str, list[Path]] = field(default_factory=dict)
    quarantine: list[Path] = field(default_factory=list)


def committed_files(eventlog: EventLog, registry: Registry) -> CommittedFiles:
    """The files of a snapshot (EventLog.snapshot) as its commit records list them: the
    same files the DuckDB build's `eventlog` views name (EventLog.select_sql)."""
    by_entity = {
        entity: eventlog.live_files([f.id for f in registry.feeds if f.entity == entity])
        for entity in ENTITIES
    }
    return CommittedFiles(eventlog.live_files(), by_entity, eventlog.quarantine_files())


def source_view(source: str, table: str) -> str:
    """The global temporary view a dbt source is on Spark (see macro `source`)."""
    return f"{source}__{table}"


def register_sources(
    spark: SparkSession, prepared: Path, eventlog: EventLog, registry: Registry
) -> None:
    """The dbt sources as global temporary views: the small tables (loads, registry, packs)
    from the DuckDB file `prepared` (ingest.warehouse.runner.prepare_build_file made it,
    as for a DuckDB build), the events and quarantine from the committed Parquet files, joined to the
    loads for their `known_at` and `retired_at` as the DuckDB views are."""
    from pyspark import StorageLevel

    from ingest.feeds.contract import dbt_contract
    from ingest.log.eventlog import EMPTY_EVENTS_SQL
    from ingest.sessions import connect
    from ingest.warehouse.runner import EMPTY_QUARANTINE_SQL

    con = connect(prepared, read_only=True)
    try:
        for schema, name in con.execute(
            "SELECT schema_name, table_name FROM duckdb_tables() WHERE schema_name IN "
            f"({', '.join(repr(s) for s in SOURCE_SCHEMAS)})"
        ).fetchall():
            table = con.sql(f"SELECT * FROM {schema}.{name}").to_arrow_table()
            _view(spark, spark.createDataFrame(table), schema, name)
        empty_events = con.sql(EMPTY_EVENTS_SQL).to_arrow_table()
        empty_quarantine = con.sql(EMPTY_QUARANTINE_SQL).to_arrow_table()
    finally:
        con.close()
    loads = spark.table(f"global_temp.{source_view('eventlog', 'loads')}").select(
        "load_id", "known_at", "retired_at"
    )
    files = committed_files(eventlog, registry)
    columns = [f.name for f in empty_events.schema]

    def events(paths: list[Path]) -> DataFrame:
        if not paths:
            return spark.createDataFrame(empty_events)
        raw = _parquet(spark, paths, eventlog.dir)
        own = [c for c in columns if c not in ("known_at", "retired_at")]
        return raw.select(*own).join(loads, "load_id", "inner").select(*columns)

    contract = dbt_contract(registry)
    for entity in ENTITIES:
        frame = events(files.by_entity[entity])
        if entity in contract:
            # kept once computed: the staging model reads its source more than once
            frame = staged(frame, contract[entity]).persist(StorageLevel.MEMORY_AND_DISK)
        _view(spark, frame, "eventlog", f"{entity}_events")
    _view(spark, events(files.events), "eventlog", "events")
    qcolumns = [f.name for f in empty_quarantine.schema]
    if files.quarantine:
        raw = _parquet(spark, files.quarantine, eventlog.quarantine_dir)
        own = [c for c in qcolumns if c not in ("known_at", "retired_at")]
        quarantine = raw.select(*own).join(loads, "load_id", "inner").select(*qcolumns)
    else:
        quarantine = spark.createDataFrame(empty_quarantine)
    _view(spark, quarantine, "eventlog", "quarantine")


def contract_sql(contract: dict) -> str:
    """The DuckDB SQL that adds an entity's staged columns to a batch of its events (table
    `batch`): each feed's contract (ingest.feeds.contract.dbt_contract), a branch per feed, as
    macro `stage_feeds` splices them into a DuckDB build's staging models."""
    from ingest.feeds.contract import PAYLOAD_FIELDS, Payload
    from ingest.sql import literal

    empty: dict[str, str] = contract.get("empty", {})
    feeds = contract.get("feeds") or [{"id": None, "sql": {}}]
    branches = []
    for feed in feeds:
        columns = "".join(f", {feed['sql'].get(c, null)} AS {c}" for c, null in empty.items())
        where = f"feed_id = {literal(feed['id'])}" if feed["id"] else "false"
        fields = feed.get("fields") or Payload().extraction()
        read = f"(SELECT *, {fields} FROM batch WHERE {where}) AS batch"
        branches.append(f"SELECT * EXCLUDE ({PAYLOAD_FIELDS}){columns} FROM {read}")
    return " UNION ALL ".join(branches)


def staged(events: DataFrame, contract: dict) -> DataFrame:
    """`events` with the staged columns of their feeds' contract, computed by DuckDB in
    Spark's Python workers, batch by batch (mapInArrow): the contract is SQL that feeds.yaml
    compiles to for DuckDB, and every column is a function of its own row, so each batch
    is read exactly as a DuckDB build reads it, wherever Spark runs it. One dialect of the
    contract to keep; no second parser of agency time formats to drift from the first."""
    from pyspark.sql.pandas.types import from_arrow_schema, to_arrow_schema

    from ingest.sessions import connect

    sql = contract_sql(contract)
    con = connect()
    try:
        con.register("batch", to_arrow_schema(events.schema, timezone="UTC").empty_table())
        schema = from_arrow_schema(con.sql(sql).to_arrow_table().schema)
    finally:
        con.close()
    arrow_schema = to_arrow_schema(schema, timezone="UTC")

    def read(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        con = connect()
        try:
            for batch in batches:
                con.register("batch", batch)
                yield from con.sql(sql).to_arrow_table().cast(arrow_schema).to_batches()
                con.unregister("batch")
        finally:
            con.close()

    return events.mapInArrow(read, schema)


def _parquet(spark: SparkSession, paths: list[Path], base: Path) -> DataFrame:
    """Exactly these files, with the Hive partition columns of their paths under `base`."""
    return spark.read.option("basePath", str(base)).parquet(*(str(p) for p in paths))


def _view(spark: SparkSession, frame: DataFrame, source: str, table: str) -> None:
    frame.createOrReplaceGlobalTempView(source_view(source, table))


def copy_marts(spark: SparkSession, work: Path, staging: Path) -> list[str]:
    """Every table of the schemas the gate, publish and analysts read from a build
    (`COPIED_SCHEMAS`: the marts, the seeds whose vocabularies the gate checks them
    against, the review queues) and the folded models the gate reconciles
    (`COPIED_TABLES`), from Spark into the DuckDB file `work` (same schemas, same names).
    Each table goes through Parquet files Spark writes under `staging`: pulling it through
    Arrow (`toArrow`) made one task's result of a whole table, which ran the 2 GB driver
    out of heap at 1M events. Returns the tables copied, as `schema.name`."""
    from ingest.sessions import connect

    copied = []
    con = connect(work)
    try:
        for schema in (*COPIED_SCHEMAS, *COPIED_TABLES):
            if not spark.catalog.databaseExists(schema):
                continue
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
            names = [row.tableName for row in spark.sql(f"SHOW TABLES IN {schema}").collect()]
            wanted = COPIED_TABLES.get(schema)
            for name in sorted(n for n in names if n and (wanted is None or n in wanted)):
                folder = staging / f"{schema}.{name}"
                spark.table(f"{schema}.{name}").write.mode("overwrite").parquet(str(folder))
                con.execute(
                    f"CREATE OR REPLACE TABLE {schema}.{name} AS "
                    f"FROM read_parquet({literal(folder / '*.parquet')})"
                )
                shutil.rmtree(folder)
                copied.append(f"{schema}.{name}")
    finally:
        con.close()
    return copied


@dataclass
class SparkTiming:
    """Where a Spark build's time goes (seconds)."""

    session: float = 0.0
    sources: float = 0.0
    dbt: float = 0.0
    copy: float = 0.0


def build(
    root: Path,
    *,
    registry: Registry | None = None,
    as_of: datetime | None = None,
    master: str = "local[2]",
    on_node: NodeCallback | None = None,
    test: bool = True,
    timing: SparkTiming | None = None,
) -> BuildResult:
    """A full-refresh build of the warehouse of `root` on Spark, as known at `as_of`
    (default: the snapshot's moment); see the module's doc. Same result type, lock,
    state and atomic switch as `ingest.warehouse.runner.build`."""
    from ingest.sessions import connect
    from ingest.warehouse import runner as wh
    from ingest.warehouse import verification
    from ingest.warehouse.country_pack import load_packs

    started = time.perf_counter()
    timing = timing or SparkTiming()
    settings = Settings.resolve(data_dir=root)
    registry = registry or settings.registry
    packs = load_packs(registry.country_packs)
    current = wh.warehouse_path(root)
    with wh.build_lock(root) as folder:
        wh._remove_leftovers(folder)
        moment, eventlog = EventLog(root).snapshot()
        fingerprint = wh.derivation_fingerprint(registry, eventlog, settings.dbt_project_dir)
        build_id = f"{moment:%Y%m%dT%H%M%S.%f}Z-{secrets.token_hex(3)}"
        work = folder / f".build-{build_id}.duckdb"
        spark_dir = folder / f".build-{build_id}.spark"
        wh.prepare_build_file(work, eventlog, registry, packs)
        as_of_text = (as_of or moment).astimezone(UTC).isoformat()
        vars_ = wh.dbt_vars(registry)
        result = wh.BuildResult(ok=True, as_of=as_of_text, build_id=build_id)
        with _stopped(spark_session(spark_dir, master, settings)) as spark:
            timing.session = time.perf_counter() - started
            register_udfs(spark, tuple(str(p) for p in registry.country_packs))
            register_sources(spark, work, eventlog, registry)
            timing.sources = time.perf_counter() - started - timing.session
            # the staging unit tests give the contract as DuckDB SQL and their sources as
            # fixtures of the sources' dbt names: here the contract ran before dbt and the
            # sources are global temporary views (dbt_project/models/staging/_staging__unit_tests.yml)
            args = ["build", "--target", "spark", "--vars", vars_, "--full-refresh"]
            args += ["--exclude", f"tag:{DUCKDB_CONTRACT_TAG}"]
            if not test:
                args += ["--exclude-resource-type", "test", "unit_test"]
            mark = time.perf_counter()
            run = wh.run_dbt(
                args, root, on_node, registry, warehouse=work, settings=settings, as_of=as_of_text
            )
            timing.dbt = time.perf_counter() - mark
            result.nodes, result.failures = run.nodes, run.failures
            result.invocation_id, result.ok = run.invocation_id, run.ok
            mark = time.perf_counter()
            if run.ok:
                copy_marts(spark, work, spark_dir / "copy")
            timing.copy = time.perf_counter() - mark
        mode = wh.AS_OF if as_of is not None else wh.FULL_REFRESH
        state = wh.BuildState(
            build_id, datetime.fromisoformat(as_of_text), mode, fingerprint,
            run.invocation_id, datetime.now(UTC), test,
        )  # fmt: skip
        con = connect(work)
        try:
            wh.write_state(con, state)
            if result.ok:
                # a full refresh is its own reference (ingest.warehouse.verification)
                contents = verification.own_reference(con)
                verification.write(con, build_id, state.built_at, contents, contents)
        finally:
            con.close()
        shutil.rmtree(spark_dir, ignore_errors=True)
        result.warehouse = wh.switch_in(work, current if result.ok else wh.failed_path(root))
    result.seconds = time.perf_counter() - started
    return result


class _stopped:
    """The session, stopped at the end of the block (the JVM stays for the process)."""

    def __init__(self, spark: SparkSession):
        self.spark = spark

    def __enter__(self) -> SparkSession:
        return self.spark

    def __exit__(self, *exc: object) -> None:
        self.spark.stop()


def main(argv: list[str] | None = None) -> int:
    from ingest.warehouse.runner import parse_as_of

    parser = argparse.ArgumentParser(prog="python -m ingest.warehouse.spark", description=__doc__)
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--as-of", default=None, help="the warehouse as known then")
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--no-test", action="store_true", help="models only")
    args = parser.parse_args(argv)
    as_of = parse_as_of(args.as_of) if args.as_of else None
    timing = SparkTiming()
    result = build(
        args.data_dir or Settings.resolve().data_dir, as_of=as_of, master=args.master, test=not args.no_test,
        timing=timing,
    )  # fmt: skip
    print(
        f"{'ok' if result.ok else 'FAILED'}: {result.nodes} nodes in {result.seconds:.1f} s {timing}"
    )
    for failure in result.failures:
        print("  " + failure)
    return 0 if result.ok else 1


# Spark starts Python workers that import this module: build only when run as a script.
if __name__ == "__main__":
    sys.exit(main())
