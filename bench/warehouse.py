"""Generation, ingest of the simulated feeds, and the dbt build: full, then incremental.

The simulated operation grows by days at a fixed daily density (scale 100), so a
bigger benchmark is a longer operation, not a denser one: that is how the event
log of a real mission grows. The incremental build follows one new load of 10k
events (new ministry reports) on top of the full build.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from bench.common import Row, peak_rss_mb, timer

SCALE = 100.0
# Records the simulator writes per simulated day at SCALE (measured: 256k in 30 days).
RECORDS_PER_DAY = 8_545
NEW_EVENTS = 10_000
CREDENTIALS = "demo-client:demo-secret"
REPO = Path(__file__).resolve().parents[1]


def simulate_and_ingest(root: Path, days: int) -> dict[str, float]:
    from ingest.eventlog import EventLog, connect
    from ingest.feedserver import serve
    from ingest.pipeline import ingest_all
    from ingest.registry import parse_registry
    from ingest.simulate import simulate

    with timer() as gen:
        manifest = simulate(root / "sim", seed=7, days=days, scale=SCALE)
    server = serve(root / "sim", "127.0.0.1", 0)
    env = {
        **os.environ,
        "PEACEOPS_FEEDS_URL": server.url,
        "PEACEOPS_UNMIC_CREDENTIALS": CREDENTIALS,
    }
    try:
        feeds = parse_registry((REPO / "feeds.yaml").read_text(), env, root)
        with timer() as ing:
            results = ingest_all(feeds, root, env=env)
    finally:
        server.shutdown()
    failed = [f"{r.feed_id}: {r.error}" for r in results if not r.ok]
    if failed:
        raise RuntimeError(f"ingest failed: {failed}")
    log = EventLog(root)
    events = connect().sql(f"SELECT count(*) FROM ({log.select_sql()})").fetchall()[0][0]
    return {
        "records": sum(f["records"] for f in manifest["feeds"].values()),
        "generate_s": gen["seconds"],
        "ingest_s": ing["seconds"],
        "events": events,
    }


def append_new_reports(root: Path, n: int) -> None:
    """One load of n new ministry reports: copies of logged ones under new ids."""
    from ingest.decode.model import rows_table
    from ingest.envelope import envelope_sql
    from ingest.eventlog import EventLog, connect
    from ingest.registry import parse_registry

    feed = next(
        f
        for f in parse_registry((REPO / "feeds.yaml").read_text(), {}, root)
        if f.id == "moi.incidents"
    )
    log = EventLog(root)
    payloads = (
        connect().sql(f"SELECT payload FROM ({log.select_sql(feed.id)}) LIMIT {n}").fetchall()
    )
    rows = []
    for i in range(n):
        record = {k: v for k, v in json.loads(payloads[i % len(payloads)][0]).items() if v}
        record.pop("Incident Number", None)
        record["Incident No"] = f"MOI-BENCH-{i:06d}"
        rows.append(record)
    table = rows_table(rows, [f"row={i + 1}" for i in range(n)])
    with log.begin(feed.id, datetime.now(UTC)) as load:
        sql = envelope_sql(feed, table.column_names, "batch", source_sha256="0" * 64,
                           load_id=load.load_id)  # fmt: skip
        load.add(sql, table, source={"sha256": "0" * 64, "name": "bench"})
        load.commit()


def run(events_target: int) -> list[Row]:
    from ingest.warehouse import build

    days = max(1, round(events_target / RECORDS_PER_DAY))
    root = Path(tempfile.mkdtemp(prefix="peaceops-bench-wh-"))
    try:
        sizes = simulate_and_ingest(root, days)
        label = f"{sizes['events'] / 1e6:.2g}M events"
        with timer() as full:
            built = build(root, full_refresh=True)
        if not built.ok:
            raise RuntimeError(f"full build failed: {built.failures[:3]}")
        append_new_reports(root, NEW_EVENTS)
        with timer() as inc:
            built = build(root)
        if not built.ok:
            raise RuntimeError(f"incremental build failed: {built.failures[:3]}")
        return [
            Row("generate", f"{sizes['records'] / 1e6:.2g}M records ({days} days)",
                sizes["generate_s"], None,
                {"records_per_s": f"{sizes['records'] / sizes['generate_s']:,.0f}"}),
            Row("ingest-sim", f"{sizes['records'] / 1e6:.2g}M records, 7 feeds",
                sizes["ingest_s"], None,
                {"records_per_s": f"{sizes['records'] / sizes['ingest_s']:,.0f}"}),
            Row("build-full", label, full["seconds"], None,
                {"dbt_nodes": built.nodes, "peak_rss_mb": f"{peak_rss_mb():,.0f}"}),
            Row("build-incr", f"{label} + {NEW_EVENTS // 1000}k new", inc["seconds"],
                full["seconds"], {"target_ratio": 0.1}),
        ]  # fmt: skip
    finally:
        shutil.rmtree(root, ignore_errors=True)
