"""The pipeline on a simulated operation, stage by stage: generation, ingest of the
simulated feeds, full dbt build and its gate (every mart), incremental build after 10k
new events and its gate (the marts it changed; the others' passes carried over),
publishing, and analyst queries on the published dataset. Each stage runs in its own
process, so its peak memory is its own.

The operation grows by days at a fixed daily density (scale 100), so a bigger
benchmark is a longer operation, not a denser one: that is how the event log of a
real mission grows.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
import statistics
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from bench.common import Row, plain_duckdb
from bench.stages import in_child

if TYPE_CHECKING:
    from ingest.settings import Settings

SCALE = 100.0
# Records the simulator writes per simulated day at SCALE (measured: 256k in 30 days).
RECORDS_PER_DAY = 8_545
NEW_EVENTS = 10_000
REPO = Path(__file__).resolve().parents[1]
# Generated scenarios, keyed by their parameters (git-ignored).
CACHE = Path(__file__).parent / "cache"

# The analysts' example questions, each timed on the published mission database.
QUESTIONS = REPO / "docs" / "analysts" / "questions"
QUERY_RUNS = 5
# every example question's median, at 10M (issue 20)
QUERY_TARGET_S = 0.1
# from a report dropped into an inbox to its being published, at 10M (issue 20)
FRESHNESS_TARGET_S = 120


def link_or_copy(src: str, dst: str) -> None:
    """A hard link (nothing downstream writes into the scenario's files), or a copy
    across file systems."""
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def scenario_key(days: int, start: date) -> str:
    """What a generated scenario depends on: its parameters and the simulator's code."""
    digest = hashlib.sha256(f"seed=7 days={days} scale={SCALE} start={start}".encode())
    for path in sorted((REPO / "src" / "ingest" / "lab" / "simulate").rglob("*.py")):
        digest.update(path.read_bytes())
    return f"{days}d-{start}-{digest.hexdigest()[:12]}"


def generate(root: Path, days: int, cache: Path | None = CACHE) -> tuple[int, bool]:
    """The simulated operation under `root / "sim"`, taken from `cache` when a run with
    the same parameters generated it already (generation costs minutes at 10M, and the
    scenario is the input of the benchmark, not what it measures). Returns the records
    and whether they came from the cache."""
    from ingest.lab.simulate import simulate

    # The operation ends yesterday: the gate rejects events dated in the future.
    start = datetime.now(UTC).date() - timedelta(days=days + 1)
    cached = cache / scenario_key(days, start) if cache else None
    hit = cached is not None and (cached / "manifest.json").exists()
    if hit:
        assert cached is not None
        shutil.copytree(cached, root / "sim", copy_function=link_or_copy)
        manifest = json.loads((cached / "manifest.json").read_text())
    else:
        manifest = simulate(root / "sim", seed=7, days=days, scale=SCALE, start=start.isoformat())
        if cached is not None:
            for old in cached.parent.glob(f"{days}d-*"):  # another start or simulator: stale
                shutil.rmtree(old, ignore_errors=True)
            partial = cached.parent / f".{cached.name}.part"
            shutil.rmtree(partial, ignore_errors=True)
            shutil.copytree(root / "sim", partial, copy_function=link_or_copy)
            os.rename(partial, cached)
    write_registry(root, start - timedelta(days=31))
    return sum(f["records"] for f in manifest["feeds"].values()), hit


def write_registry(root: Path, mission_start: date) -> None:
    """The project's feeds.yaml with the mission starting before the simulated operation
    (records before the mission's start are excluded), as `root/feeds.yaml`."""
    import yaml

    from ingest.settings import PROJECT_DIR

    doc = yaml.safe_load((PROJECT_DIR / "feeds.yaml").read_text())
    doc["mission"]["start"] = mission_start
    doc["country_pack"] = str(PROJECT_DIR / "packs" / "carana")
    (root / "feeds.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False))


def settings(root: Path) -> Settings:
    """The hub's settings on the data directory `root`, with its registry (write_registry)."""
    from ingest.settings import Settings

    return Settings.resolve(data_dir=root, feeds_file=root / "feeds.yaml")


def ingest(root: Path) -> int:
    from ingest.lab.demo import ingest_simulation
    from ingest.log.eventlog import EventLog
    from ingest.sessions import connect

    results = ingest_simulation(root, root / "feeds.yaml")
    failed = [f"{r.feed_id}: {r.error}" for r in results if not r.ok]
    if failed:
        raise RuntimeError(f"ingest failed: {failed}")
    return connect().sql(f"SELECT count(*) FROM ({EventLog(root).select_sql()})").fetchall()[0][0]


def append_new_reports(root: Path, n: int) -> None:
    """One load of n new ministry reports: copies of logged ones under ids new to the log
    (each call's own, so a second call adds n more)."""
    from ingest.feeds.decide import decide
    from ingest.feeds.decode.model import rows_table
    from ingest.feeds.envelope import envelope_sql
    from ingest.log.eventlog import EventLog
    from ingest.sessions import connect

    feed = settings(root).registry.feed("moi.incidents")
    log = EventLog(root)
    payloads = (
        connect().sql(f"SELECT payload FROM ({log.select_sql(feed.id)}) LIMIT {n}").fetchall()
    )
    with log.begin(feed.id, datetime.now(UTC)) as load:
        rows = []
        for i in range(n):
            record = {k: v for k, v in json.loads(payloads[i % len(payloads)][0]).items() if v}
            record.pop("Incident Number", None)
            record["Incident No"] = f"MOI-BENCH-{load.load_id}-{i:06d}"
            rows.append(record)
        table = rows_table(rows, [f"row={i + 1}" for i in range(n)])
        sha = hashlib.sha256(load.load_id.encode()).hexdigest()
        sql = envelope_sql(
            feed, table.column_names, "batch", source_sha256=sha, load_id=load.load_id
        )
        counts = load.store(decide(sql), table, source={"sha256": sha, "name": "bench"})
        load.commit()
    if counts.appended != n:
        raise RuntimeError(f"{n} new reports appended {counts.appended} events")


def build(root: Path, full_refresh: bool) -> int:
    from ingest import stages

    built = stages.build(settings(root), full_refresh=full_refresh)
    if not built.ok:
        raise RuntimeError(f"build failed: {built.failures[:3]}")
    return built.nodes


def gate(root: Path) -> dict:
    """The gate's result (as the Airflow gate task hands it to the publish task)."""
    from ingest import stages

    return json.loads(stages.check(settings(root)).to_json())


def carried_over(checked: dict) -> dict[str, int]:
    """Suites a gate validated and suites whose last pass it carried over (ingest.gate.carry)."""
    carried = sum(s.get("carried_from") is not None for s in checked["stats"].values())
    return {"validated": len(checked["stats"]) - carried, "carried_over": carried}


def publish(root: Path, checked: dict) -> None:
    from ingest import stages
    from ingest.gate import GateResult

    stages.publish(settings(root), GateResult.from_dict(checked))


def publish_floor(root: Path) -> float:
    """Seconds DuckDB takes to write every published mart once, whole, as Parquet: what
    publishing would cost with one audience, one format and nothing carried over."""
    from ingest.warehouse.sharing import SCHEMA, published_marts

    out = root / "publish-floor"
    out.mkdir()
    con = plain_duckdb()
    try:
        con.execute(f"ATTACH '{root / 'warehouse' / 'build.duckdb'}' AS wh (READ_ONLY)")
        start = time.perf_counter()
        for spec in published_marts(root):
            con.execute(f"COPY wh.{SCHEMA}.{spec.name} TO '{out / spec.name}.parquet'")
        return time.perf_counter() - start
    finally:
        con.close()
        shutil.rmtree(out)


def drop_report(root: Path) -> str:
    """A new ministry report dropped into its feed's inbox, as the ministry would: a CSV
    like its last one holding one report under an id new to the log; returns its key."""
    feed = settings(root).registry.feed("moi.incidents")
    inbox = Path(feed.location)
    last = sorted(inbox.glob("*.csv"))[-1]
    # the ministry's files are Latin-1, and a description may span lines
    header, row, *_ = csv.reader(io.StringIO(last.read_text(encoding="latin-1")))
    record_id = f"MOI/BENCH/{time.time_ns()}"
    row[next(i for i, name in enumerate(header) if name.startswith("Incident N"))] = record_id
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerows([header, row])
    (inbox / f"moi-incidents-bench-{time.time_ns()}.csv").write_bytes(
        text.getvalue().encode("latin-1")
    )
    return f"{feed.id}:{record_id}"


def freshness(root: Path) -> dict[str, float]:
    """Seconds from a new report dropped into an inbox to its being in the published
    dataset: ingest of its feed, incremental build, gate, publish; per step and in all."""
    from ingest import stages

    steps: dict[str, float] = {}
    start = time.perf_counter()
    key = drop_report(root)
    (result,) = stages.ingest(settings(root), "moi.incidents")
    if not (result.ok and result.counts.appended == 1):
        raise RuntimeError(f"the new report was not ingested: {result}")
    steps["ingest_s"] = time.perf_counter() - start
    build(root, False)
    steps["build_s"] = time.perf_counter() - start - sum(steps.values())
    checked = gate(root)
    if not checked["passed"]:
        raise RuntimeError("the gate failed after the new report")
    steps["gate_s"] = time.perf_counter() - start - sum(steps.values())
    publish(root, checked)
    steps["publish_s"] = time.perf_counter() - start - sum(steps.values())
    steps["total_s"] = time.perf_counter() - start
    database = root / "published" / "current" / "mission" / "unified.duckdb"
    con = plain_duckdb(database, read_only=True)
    try:
        found = con.execute(
            "SELECT count(*) FROM fct_incident_history WHERE record_key = ?", [key]
        ).fetchone()[0]
    finally:
        con.close()
    if found != 1:
        raise RuntimeError(f"{key} is not in the published dataset")
    return steps


def query_latencies(root: Path, runs: int = QUERY_RUNS) -> dict[str, float]:
    """Median seconds of each example question (docs/analysts/questions) over `runs`,
    each run in a fresh read-only session, as an analyst's would be."""
    database = root / "published" / "current" / "mission" / "unified.duckdb"
    out = {}
    for path in sorted(QUESTIONS.glob("*.sql")):
        sql = path.read_text(encoding="utf-8")
        times = []
        for _ in range(runs):
            con = plain_duckdb(database, read_only=True)
            start = time.perf_counter()
            con.sql(sql).fetchall()
            times.append(time.perf_counter() - start)
            con.close()
        out[path.stem] = statistics.median(times)
    return out


def record_freshness(seconds: float, events: int, steps: dict[str, float]) -> None:
    """The latest freshness figure, which `peaceops status` shows (ingest.serve.status)."""
    from ingest.serve.status import BENCH_FRESHNESS

    BENCH_FRESHNESS.parent.mkdir(exist_ok=True)
    figure = {
        "seconds": round(seconds, 1),
        "events": events,
        "target_s": FRESHNESS_TARGET_S,
        "measured_at": datetime.now(UTC).isoformat(),
        "steps": {k: round(v, 1) for k, v in steps.items()},
    }
    BENCH_FRESHNESS.write_text(json.dumps(figure, indent=1) + "\n")


def run(events_target: int, dashboard: bool = False) -> list[Row]:
    days = max(1, round(events_target / RECORDS_PER_DAY))
    root = Path(tempfile.mkdtemp(prefix="peaceops-bench-wh-"))
    try:
        (records, cached), gen_s, gen_mb = in_child(generate, root, days)
        events, ing_s, ing_mb = in_child(ingest, root)
        label = f"{events / 1e6:.2g}M events"
        nodes, full_s, full_mb = in_child(build, root, True)
        # the build as first published: every file written
        first, first_gate_s, _ = in_child(gate, root)
        floor_s, _, _ = in_child(publish_floor, root)
        rows = [
            Row("generate", f"{records / 1e6:.2g}M records ({days} days)", gen_s, None,
                {"cached": cached, "records_per_s": f"{records / gen_s:,.0f}",
                 "peak_mb": f"{gen_mb:,.0f}"}),
            Row("ingest-sim", f"{records / 1e6:.2g}M records, 7 feeds", ing_s, None,
                {"records_per_s": f"{records / ing_s:,.0f}", "peak_mb": f"{ing_mb:,.0f}"}),
            Row("build-full", label, full_s, None,
                {"dbt_nodes": nodes, "peak_mb": f"{full_mb:,.0f}"}),
            Row("gate-full", label, first_gate_s, full_s,
                {"passed": first["passed"], "floor": "full build", **carried_over(first)}),
        ]  # fmt: skip
        if not first["passed"]:
            return rows
        _, first_pub_s, first_pub_mb = in_child(publish, root, first)
        rows.append(
            Row("publish-first", label, first_pub_s, floor_s,
                {"floor": "DuckDB writing each mart once as Parquet", "peak_mb": f"{first_pub_mb:,.0f}"})
        )  # fmt: skip
        in_child(append_new_reports, root, NEW_EVENTS)
        _, inc_s, inc_mb = in_child(build, root, False)
        checked, gate_s, gate_mb = in_child(gate, root)
        passed = checked["passed"]
        rows += [
            Row("build-incr", f"{label} + {NEW_EVENTS // 1000}k new", inc_s, full_s,
                {"target_ratio": 0.05, "floor": "full build", "peak_mb": f"{inc_mb:,.0f}"}),
            Row("gate-incr", f"{label} + {NEW_EVENTS // 1000}k new", gate_s, full_s,
                {"passed": passed, "target_ratio": 0.15, "floor": "full build",
                 **carried_over(checked), "peak_mb": f"{gate_mb:,.0f}"}),
        ]  # fmt: skip
        if passed:
            _, pub_s, pub_mb = in_child(publish, root, checked)
            rows.append(
                Row("publish", f"{label} + {NEW_EVENTS // 1000}k new, unchanged marts carried",
                    pub_s, floor_s,
                    {"target_s": 60, "floor": "DuckDB writing each mart once as Parquet",
                     "peak_mb": f"{pub_mb:,.0f}"})
            )  # fmt: skip
            latencies, _, _ = in_child(query_latencies, root)
            rows += [
                Row(
                    "query",
                    f"{name} (median of {QUERY_RUNS})",
                    seconds,
                    None,
                    {"target_s": QUERY_TARGET_S},
                )
                for name, seconds in latencies.items()
            ]
            if dashboard:  # before freshness publishes another version
                from bench import dashboard as dashboard_bench

                rows += dashboard_bench.measure(root, label, feeds=root / "feeds.yaml")
            steps, fresh_s, fresh_mb = in_child(freshness, root)
            record_freshness(fresh_s, events, steps)
            rows.append(
                Row("freshness", f"{label}: one report dropped to published", fresh_s, None,
                    {"target_s": FRESHNESS_TARGET_S, **{k: f"{v:.1f}" for k, v in steps.items()},
                     "peak_mb": f"{fresh_mb:,.0f}"})
            )  # fmt: skip
        return rows
    finally:
        shutil.rmtree(root, ignore_errors=True)
