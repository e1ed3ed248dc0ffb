"""The warehouse build: expose the committed event log to dbt, then run dbt.

dbt reads the log through views in the `eventlog` schema, one per entity plus all
events, the quarantine and the load commits. The views name the files of a snapshot
of the log (EventLog.snapshot), so a build reads exactly the loads committed at its
moment, whatever is appended meanwhile; `eventlog.loads` lists them.

A build never writes the warehouse in use, `warehouse/build.duckdb`: it builds a new
file beside it (for an incremental build the warehouse before it, kept as
`warehouse/spare.duckdb`, or else a copy of the one in use; an empty one for a full
refresh), and only when dbt's models and tests pass renames it over `build.duckdb`,
atomically. A build that fails or is killed at any point leaves the last good
warehouse as it was (a failed one is kept as `warehouse/failed.duckdb` to look at).
Builds take turns (`warehouse/.build.lock`). Each warehouse says what it was built
from in its table `state.build` (BuildState), which the next build, the gate and
publish read.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import secrets
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from ingest.durable import holder_lock
from ingest.feeds.contract import dbt_contract
from ingest.feeds.registry import ENTITIES, Registry
from ingest.log.eventlog import EMPTY_EVENTS_SQL, EventLog, sql_list
from ingest.paths import private_dir
from ingest.sessions import connect, one
from ingest.settings import MEMORY_LIMIT_ENV, PACKS_ENV, Settings
from ingest.warehouse import verification
from ingest.warehouse.country_pack import CountryPack, load_packs
from ingest.warehouse.spare import keep_as_spare, spare_path, take_spare
from ingest.warehouse.tables import pack_tables, registry_tables

log = logging.getLogger(__name__)

EMPTY_QUARANTINE_SQL = """
SELECT CAST(NULL AS VARCHAR) AS feed_id, CAST(NULL AS VARCHAR) AS load_id,
       CAST(NULL AS VARCHAR) AS source_ref, CAST(NULL AS VARCHAR) AS raw,
       CAST(NULL AS VARCHAR) AS reason, CAST(NULL AS VARCHAR) AS message,
       CAST(NULL AS TIMESTAMPTZ) AS quarantined_at, CAST(NULL AS TIMESTAMPTZ) AS known_at,
       CAST(NULL AS TIMESTAMPTZ) AS retired_at
WHERE false
"""


def warehouse_path(root: Path) -> Path:
    """The warehouse in use: the last build that passed."""
    return root / "warehouse" / "build.duckdb"


def failed_path(root: Path) -> Path:
    """The last build that failed, kept to look into."""
    return warehouse_path(root).with_name("failed.duckdb")


@contextlib.contextmanager
def build_lock(root: Path, timeout: float | None = None) -> Iterator[Path]:
    """Builds take turns: a build holds this for its whole run, and `peaceops publish`
    while it checks and publishes, so that it publishes what a running build leaves
    rather than the warehouse that build is about to replace. Yields the folder."""
    folder = private_dir(root, warehouse_path(root).parent)
    with holder_lock(folder / ".build.lock", "the warehouse build", timeout):
        yield folder


def dbt_target_path(root: Path) -> Path:
    """dbt's artifacts (manifest.json, run_results.json) for the warehouse of `root`."""
    return warehouse_path(root).parent / "dbt-target"


def create_eventlog_views(
    con: duckdb.DuckDBPyConnection, eventlog: EventLog, registry: Registry
) -> None:
    """(Re)create the `eventlog` schema over the loads `eventlog` holds (a snapshot, see
    EventLog.snapshot): the table `loads`, one row per committed load with from when it
    is known; views of the events of each entity (of every feed of that entity), of all
    events and of the ingest quarantine, each row with its load's known_at and
    retired_at. The views name the snapshot's files, so the build reads exactly its
    loads whatever is committed meanwhile."""
    con.execute("CREATE SCHEMA IF NOT EXISTS eventlog")
    con.execute(
        "CREATE OR REPLACE TABLE eventlog.loads (load_id VARCHAR, feed_id VARCHAR, kind VARCHAR, "
        "committed_at TIMESTAMPTZ, recorded_at TIMESTAMPTZ, known_at TIMESTAMPTZ, "
        "records_read BIGINT, events_appended BIGINT, duplicates BIGINT, quarantined BIGINT, "
        "sources INTEGER, retired_at TIMESTAMPTZ)"
    )
    retired = eventlog.retired()
    rows = [
        (
            c.load_id,
            c.feed_id,
            c.kind,
            c.committed_at,
            c.recorded_at,
            c.known,
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
        con.executemany(
            "INSERT INTO eventlog.loads VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows
        )
    loads = "eventlog.loads AS loads"
    for entity in ENTITIES:
        feeds = [f.id for f in registry.feeds if f.entity == entity]
        events = (
            eventlog.select_sql(feeds, include_retired=True, loads=loads)
            if feeds
            else EMPTY_EVENTS_SQL
        )
        con.execute(f"CREATE OR REPLACE VIEW eventlog.{entity}_events AS {events}")
    con.execute(
        "CREATE OR REPLACE VIEW eventlog.events AS "
        f"{eventlog.select_sql(include_retired=True, loads=loads)}"
    )
    qfiles = eventlog.quarantine_files()
    quarantine = (
        "SELECT quarantine.feed_id, quarantine.load_id, source_ref, raw, reason, message, "
        "quarantined_at, loads.known_at, loads.retired_at "
        f"FROM read_parquet({sql_list(qfiles)}, hive_partitioning = true) AS quarantine "
        f"INNER JOIN {loads} ON quarantine.load_id = loads.load_id"
        if qfiles
        else EMPTY_QUARANTINE_SQL
    )
    con.execute(f"CREATE OR REPLACE VIEW eventlog.quarantine AS {quarantine}")


def derivation_fingerprint(registry: Registry, eventlog: EventLog, project: Path) -> str:
    """A fingerprint of everything the warehouse's rows derive from besides the events:
    the feeds' contract, the mission, the country packs, the seeds, the models' SQL,
    and which loads replays retired. When it changes, rows built before are stale: a
    full refresh."""
    digest = hashlib.sha256(dbt_vars(registry).encode())
    for pack in registry.country_packs:
        for path in sorted(Path(pack).glob("*")):
            digest.update(path.name.encode() + path.read_bytes())
    code = [*(project / "seeds").glob("*.csv"), project / "dbt_project.yml"]
    code += [*(project / "models").rglob("*.sql"), *(project / "macros").rglob("*.sql")]
    for path in sorted(code):
        digest.update(str(path.relative_to(project)).encode() + path.read_bytes())
    digest.update(json.dumps(sorted(eventlog.retired())).encode())
    return digest.hexdigest()


# How a warehouse was built (BuildState.mode).
INCREMENTAL = "incremental"
FULL_REFRESH = "full refresh"
AS_OF = "as of"  # a past moment, asked for: a historical warehouse
PARTIAL = "partial"  # --select: the other models were not rebuilt


@dataclass(frozen=True)
class BuildState:
    """What a warehouse was built from: the row of its table `state.build`. The loads it
    read are its `eventlog.loads` known at `as_of`."""

    build_id: str
    as_of: datetime
    mode: str
    # derivation_fingerprint of what its rows derive from
    fingerprint: str
    invocation_id: str | None
    built_at: datetime
    # dbt's tests ran on every row: in this build (not `build --no-test`) and, as an
    # incremental build tests only the rows it writes, in each build since the last full
    # one. None: a warehouse from before this was recorded.
    tested: bool | None

    @property
    def historical(self) -> bool:
        """Built as known at a moment asked for, not as known when it ran."""
        return self.mode == AS_OF


STATE_COLUMNS = (
    "build_id VARCHAR, as_of TIMESTAMPTZ, mode VARCHAR, fingerprint VARCHAR, "
    "invocation_id VARCHAR, built_at TIMESTAMPTZ, tested BOOLEAN"
)


def read_state(con: duckdb.DuckDBPyConnection) -> BuildState | None:
    """The warehouse's BuildState, or None for one built before the hub recorded it."""
    found = one(
        con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'state' AND table_name = 'build'"
        )
    )[0]
    if not found:
        return None
    tested = one(
        con.execute(
            "SELECT count(*) FROM duckdb_columns() WHERE schema_name = 'state' "
            "AND table_name = 'build' AND column_name = 'tested'"
        )
    )[0]
    rows = con.execute(
        "SELECT build_id, as_of, mode, fingerprint, invocation_id, built_at, "
        f"{'tested' if tested else 'NULL'} FROM state.build"
    ).fetchall()
    return BuildState(*rows[0]) if rows else None


def write_state(con: duckdb.DuckDBPyConnection, state: BuildState) -> None:
    con.execute("CREATE SCHEMA IF NOT EXISTS state")
    con.execute(f"CREATE OR REPLACE TABLE state.build ({STATE_COLUMNS})")
    con.execute(
        "INSERT INTO state.build VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            state.build_id,
            state.as_of,
            state.mode,
            state.fingerprint,
            state.invocation_id,
            state.built_at,
            state.tested,
        ],
    )


def built_state(warehouse: Path) -> BuildState | None:
    """The BuildState of the warehouse file at `warehouse` (None: none recorded)."""
    con = connect(warehouse, read_only=True)
    try:
        return read_state(con)
    finally:
        con.close()


def stale_reason(state: BuildState | None, fingerprint: str) -> str | None:
    """Why the rows of a warehouse built as `state` says cannot be kept, else None."""
    if state is None:
        return "rows built before the hub recorded what they derive from"
    if state.historical:
        return f"the last build was as of {state.as_of.isoformat()}: its rows are of that moment"
    if state.fingerprint != fingerprint:
        return (
            "feeds.yaml's contract, the mission, a country pack, a seed, a model or a replay "
            "changed since the last build"
        )
    return None


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
    # the warehouse it left: build.duckdb when it passed, failed.duckdb when not
    warehouse: Path | None = None
    build_id: str | None = None
    # compared with a full refresh of the same snapshot (ingest.warehouse.verification)
    verified: bool = False
    # what dbt built on: "empty" (a full refresh), a "copy" of the warehouse in use, or
    # the "spare" (ingest.warehouse.spare)
    base: str = "empty"


NodeCallback = Callable[[NodeResult], None]
FAILED = ("error", "fail", "runtime error")


# The moment a build is as known at (dbt_project/macros/as_of.sql). Not a dbt var: the vars
# are part of what dbt's partial parsing compares, and this one changes every build.
AS_OF_ENV = "PEACEOPS_AS_OF"


def dbt_env(
    settings: Settings,
    registry: Registry | None = None,
    warehouse: Path | None = None,
    as_of: str | None = None,
) -> dict[str, str]:
    """dbt's environment for the data directory of `settings`, building `warehouse`
    (default: the one in use) as known at `as_of` (default: when dbt runs).
    dbt_project/profiles.yml reads it and has no defaults of its own."""
    packs = registry.country_packs if registry is not None else ()
    return {
        "PEACEOPS_WAREHOUSE": str(warehouse or warehouse_path(settings.data_dir)),
        AS_OF_ENV: as_of or "",
        MEMORY_LIMIT_ENV: settings.memory_limit,
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


def dbt_vars(registry: Registry) -> str:
    """The dbt vars of a run: the feeds' contract (staging reads it) and the mission's
    settings."""
    values: dict[str, object] = {
        "peaceops_contract": dbt_contract(registry),
        "mission_start": registry.mission.start.isoformat(),
        # in the fingerprint, so a new setting rebuilds every aggregate row
        "aggregate_releasability": registry.mission.aggregate_releasability,
        "aggregate_minimum_count": registry.mission.aggregate_minimum_count,
    }
    return json.dumps(values)


def run_dbt(
    args: list[str],
    root: Path,
    on_node: NodeCallback | None = None,
    registry: Registry | None = None,
    warehouse: Path | None = None,
    target: Path | None = None,
    settings: Settings | None = None,
    as_of: str | None = None,
) -> DbtRun:
    """Run one dbt command in-process (dbtRunner) against the warehouse of `root` (or
    the file `warehouse`) as known at `as_of`, its artifacts in `target` (default:
    dbt_target_path).

    `on_node` is called once per finished node (model, seed, test, ...), in the
    order dbt finishes them.
    """
    from dbt.cli.main import dbtRunner

    settings = settings or Settings.resolve(data_dir=root)
    env = dbt_env(settings, registry, warehouse, as_of)
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    invocation: list[str] = []

    def callback(event: Any) -> None:  # dbt's EventMsg
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
                str(settings.dbt_project_dir),
                "--profiles-dir",
                str(settings.dbt_project_dir),
                # Artifacts and logs belong to the data directory's build, so that builds of
                # different data directories (tests, Airflow, a demo) never share them.
                "--target-path",
                str(target or dbt_target_path(root)),
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
    lock_timeout: float | None = None,
    verify: bool = False,
    settings: Settings | None = None,
) -> BuildResult:
    """Seed, run and test the dbt project on a snapshot of the log, as known at `as_of`
    (default: the snapshot's moment), in a new file that replaces the warehouse in use
    only if every model and test passed (see the module's doc).

    Without `as_of` the build is incremental (only new loads are processed) unless
    `full_refresh`; with `as_of` it is always a full refresh, so a past-moment build
    never mixes with increments built from later knowledge. An incremental build is
    compared with a full refresh of the same snapshot when `verify` or when the last
    comparison is due (ingest.warehouse.verification).
    """
    import time

    started = time.perf_counter()
    settings = settings or Settings.resolve(data_dir=root)
    root = settings.data_dir
    registry = registry or settings.registry
    if settings.packs_override is not None:  # the packs setting over feeds.yaml's
        registry = registry.model_copy(update={"country_packs": settings.packs})
    packs = load_packs(registry.country_packs)
    current = warehouse_path(root)
    with build_lock(root, lock_timeout) as folder:
        _remove_leftovers(folder)
        moment, eventlog = EventLog(root).snapshot()
        fingerprint = derivation_fingerprint(registry, eventlog, settings.dbt_project_dir)
        previous = built_state(current) if current.exists() else None
        stale = None
        if not (full_refresh or as_of is not None) and current.exists():
            stale = stale_reason(previous, fingerprint)
        incremental = current.exists() and not (full_refresh or as_of is not None or stale)
        build_id = f"{moment:%Y%m%dT%H%M%S.%f}Z-{secrets.token_hex(3)}"
        # one name whatever the build: dbt's partial parsing starts over when its profile
        # (this path) changes
        work = folder / ".build-next.duckdb"
        base = "empty"
        if incremental and not select:
            why_not = take_spare(current, work, fingerprint)
            base = "spare" if why_not is None else "copy"
            if why_not is not None:
                log.info("building on a copy of the warehouse in use: %s", why_not)
        if base != "spare":
            # of no use to this build, and a full refresh beside two warehouses is a third
            spare_path(current).unlink(missing_ok=True)
        if base != "spare" and current.exists() and (incremental or select):
            # a partial build keeps the models it does not select as they are
            shutil.copyfile(current, work)
            base = "copy"
        prepare_build_file(work, eventlog, registry, packs)
        as_of_text = (as_of or moment).astimezone(UTC).isoformat()
        vars_ = dbt_vars(registry)
        result = BuildResult(
            ok=True, as_of=as_of_text, full_refresh_reason=stale, build_id=build_id, base=base
        )
        # One dbt invocation (each costs seconds of start-up): seeds (always reloaded, see
        # dbt_project.yml), models and, unless `test` is off, their tests.
        args = ["build", "--vars", vars_, *([] if incremental else ["--full-refresh"])]
        if not test:
            args += ["--exclude-resource-type", "test", "unit_test"]
        elif incremental:
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
        run = run_dbt(
            args, root, on_node, registry, warehouse=work, settings=settings, as_of=as_of_text
        )
        result.nodes = run.nodes
        result.failures = run.failures
        result.invocation_id = run.invocation_id
        result.ok = run.ok
        if select:
            mode = PARTIAL
            # the models it did not rebuild still derive from what the last build's did
            fingerprint = previous.fingerprint if previous else ""
        else:
            mode = AS_OF if as_of is not None else INCREMENTAL if incremental else FULL_REFRESH
        state = BuildState(
            build_id, datetime.fromisoformat(as_of_text), mode, fingerprint,
            run.invocation_id, datetime.now(UTC),
            test and (mode != INCREMENTAL or (previous is not None and previous.tested is True)),
        )  # fmt: skip
        reference = None
        if (
            run.ok
            and not select
            and incremental
            and (verify or _verification_due(current, settings))
        ):
            if on_step:
                on_step("build --full-refresh beside it, to compare: incremental = full")
            reference, failures = _full_refresh_contents(
                settings,
                registry,
                packs,
                eventlog,
                vars_,
                as_of_text,
                folder / ".build-reference.duckdb",
            )
            result.verified = True
            result.failures += [f"the full refresh to compare with: {f}" for f in failures]
            result.ok = not failures
        con = connect(work)
        try:
            write_state(con, state)
            if result.ok and not select and (reference is not None or not incremental):
                # a full refresh is its own reference; an incremental build not compared
                # keeps the last comparison (its file is a copy of the last warehouse)
                if reference is None:
                    contents = reference = verification.own_reference(con)
                else:
                    contents = verification.mart_contents(con)
                verification.write(con, build_id, state.built_at, contents, reference)
        finally:
            con.close()
        if result.ok:
            keep_as_spare(current)
        result.warehouse = switch_in(work, current if result.ok else failed_path(root))
    result.seconds = time.perf_counter() - started
    return result


def prepare_build_file(
    work: Path, eventlog: EventLog, registry: Registry, packs: list[CountryPack]
) -> None:
    """What dbt reads besides its seeds, in the build file `work`: the snapshot of the log,
    the registry and the country packs."""
    con = connect(work)
    try:
        create_eventlog_views(con, eventlog, registry)
        create_registry_tables(con, registry)
        create_pack_tables(con, packs)
    finally:
        con.close()


def _verification_due(current: Path, settings: Settings) -> bool:
    """The warehouse in use was last compared with a full refresh longer ago than
    `verify_incremental_hours` (expectations/gate.yml), or never."""
    con = connect(current, read_only=True)
    try:
        last = verification.last_verified(con)
    finally:
        con.close()
    hours = settings.gate.verify_incremental_hours
    return last is None or datetime.now(UTC) - last >= timedelta(hours=hours)


def _full_refresh_contents(
    settings: Settings,
    registry: Registry,
    packs: list[CountryPack],
    eventlog: EventLog,
    vars_: str,
    as_of: str,
    shadow: Path,
) -> tuple[dict[str, verification.Content] | None, list[str]]:
    """Build the same snapshot of the log as known at `as_of` from scratch into `shadow`
    (models only: the incremental build ran the tests) and return its marts' contents,
    then remove it."""
    prepare_build_file(shadow, eventlog, registry, packs)
    try:
        args = ["build", "--vars", vars_, "--full-refresh"]
        args += ["--exclude-resource-type", "test", "unit_test"]
        # its own artifacts: dbt's of the build itself stay the last ones
        target = shadow.with_suffix(".target")
        run = run_dbt(args, settings.data_dir, None, registry, shadow, target, settings, as_of)
        if not run.ok:
            return None, run.failures or ["dbt failed"]
        con = connect(shadow, read_only=True)
        try:
            return verification.mart_contents(con), []
        finally:
            con.close()
    finally:
        for path in (shadow, shadow.with_name(shadow.name + ".wal")):
            path.unlink(missing_ok=True)
        shutil.rmtree(shadow.with_suffix(".target"), ignore_errors=True)


def _remove_leftovers(folder: Path) -> None:
    """Files of builds killed before they finished (under the build lock: none runs)."""
    for path in folder.glob(".build-*"):
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()


def switch_in(work: Path, target: Path) -> Path:
    """Put the closed build file `work` in place of `target`, in one atomic rename.

    DuckDB checkpoints a file when its last connection closes, so `work` has no
    write-ahead log; a stale one of the file it replaces would be replayed onto it, so
    that one goes first. `work` is on disk before its name is."""
    with open(work, "rb") as fh:
        os.fsync(fh.fileno())
    target.with_name(target.name + ".wal").unlink(missing_ok=True)
    os.replace(work, target)
    fd = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    shutil.rmtree(work.with_name(work.name + ".tmp"), ignore_errors=True)  # DuckDB's spill
    return target
