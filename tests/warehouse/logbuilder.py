"""Build small event logs for warehouse tests: records shaped like each feed's, in loads
recorded at chosen times, through the real envelope and event log code."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from ingest.feeds.decide import decide
from ingest.feeds.decode import POS
from ingest.feeds.envelope import envelope_sql
from ingest.feeds.registry import Feed, Registry, load_registry
from ingest.log.eventlog import EventLog, Load

REPO = Path(__file__).resolve().parents[2]
EARTH_KM = 6371.0088  # the radius of macros/geo.sql's haversine
# When a build run (re)wrote a row: differs between equal builds, so never compared.
BOOKKEEPING = ("keyed_at", "folded_at", "resolved_at")


def ingest_simulation(root: Path, now: datetime | None = None) -> None:
    """Ingest every feed of the simulation under `root / "sim"` (the demo's path),
    recorded at `now` (default: now)."""
    from ingest.lab.demo import ingest_simulation as ingest_simulated

    results = ingest_simulated(root, REPO / "feeds.yaml", now=now)
    failed = [r.error for r in results if not r.ok]
    assert not failed, failed


def simulate_late(root: Path, feed_id: str, aside: Path) -> Callable[[], None]:
    """Three simulated days under `root / "sim"`, ingested without the last file of
    `feed_id`'s inbox (held in `aside`); returns what drops that file into the inbox and
    ingests it, so that the next build's increment is that feed's alone."""
    from ingest.lab.simulate import simulate

    simulate(root / "sim", seed=7, days=3)
    inbox = root / "sim" / "inbox" / feed_id
    late = sorted(inbox.iterdir())[-1]
    shutil.move(late, aside / late.name)
    ingest_simulation(root)

    def deliver() -> None:
        shutil.move(aside / late.name, inbox / late.name)
        ingest_simulation(root)

    return deliver


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def project_registry(root: Path) -> Registry:
    """The project's feeds.yaml, inboxes under `root`."""
    return load_registry(REPO / "feeds.yaml", root)


def feeds(root: Path) -> dict[str, Feed]:
    return {f.id: f for f in project_registry(root).feeds}


def begin(
    root: Path,
    feed: Feed,
    rows: Sequence[Mapping[str, str | None]],
    recorded_at: datetime | None,
) -> Load:
    """An open, uncommitted load of `rows` (decoded records, every value a string) for
    `feed`, back-dated to `recorded_at` (None: recorded now, known from its commit); it
    holds the feed's lock until `finish(load)`. Its load id is taken now, so a load
    committed later by `finish` can carry an older id than loads committed meanwhile (as
    when ingests of different feeds run in parallel)."""
    columns = sorted({k for r in rows for k in r})
    data = {c: pa.array([r.get(c) for r in rows], pa.string()) for c in columns}
    data[POS] = pa.array([f"row={i + 1}" for i in range(len(rows))], pa.string())
    table = pa.table(data)
    sha = f"{abs(hash((feed.id, recorded_at, len(rows)))):064d}"[:64]
    load = EventLog(root).begin(feed.id, recorded_at)
    load.__enter__()
    try:
        sql = envelope_sql(
            feed, table.column_names, "batch", source_sha256=sha, load_id=load.load_id
        )
        load.store(decide(sql), table, source={"sha256": sha, "name": "test"})
    except BaseException as err:
        load.__exit__(type(err), err, err.__traceback__)
        raise
    return load


def finish(load: Load) -> str:
    """Commit a load opened by `begin` and release its lock; returns its load id."""
    try:
        load.commit()
    finally:
        load.__exit__(None, None, None)
    return load.load_id


def append(
    root: Path, feed: Feed, rows: Sequence[Mapping[str, str | None]], recorded_at: datetime
) -> str:
    """One committed load of `rows` (decoded records, every value a string) for `feed`."""
    return finish(begin(root, feed, rows, recorded_at))


def snapshot(db: Path, tables: Sequence[str], schema: str) -> dict[str, list[tuple]]:
    """The rows of each table (sorted, bookkeeping columns left out), to compare builds."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        out = {}
        for t in tables:
            cols = [
                c
                for (c,) in con.sql(
                    f"select column_name from information_schema.columns "
                    f"where table_schema = '{schema}' and table_name = '{t}' order by ordinal_position"
                ).fetchall()
                if c not in BOOKKEEPING
            ]
            out[t] = sorted(
                con.sql(f"select {', '.join(cols)} from {schema}.{t}").fetchall(), key=repr
            )
        return out
    finally:
        con.close()


def query(db: Path, sql: str) -> list[tuple]:
    """The rows of `sql` on a warehouse file, opened read-only."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.sql(sql).fetchall()
    finally:
        con.close()
