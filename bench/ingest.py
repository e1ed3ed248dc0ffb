"""Ingest throughput against DuckDB computing the same envelopes over the same file.

The ingest path is everything `peaceops ingest` does to a dropped file: read and
land the bytes (sha256, fsync), decode, compute envelopes in SQL, de-duplicate
against the committed log, write Parquet, commit. Its floor, `envelope_floor`, is
DuckDB computing the same envelopes over `read_csv`: the per-record work alone. The
plain copy, `COPY (SELECT * FROM read_csv(f, all_varchar=true)) TO 'x.parquet'`, is
printed beside it for scale. Peers doing the same work are in bench.peers.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa

from bench.common import Row, best_of, plain_duckdb
from bench.stages import in_child

# The ingest's time against DuckDB alone computing the same envelopes (issue 20).
TARGET_RATIO = 1.25

FEED_YAML = """
version: 2
agencies:
  - {id: bench, name: Bench agency, kind: NGO}
feeds:
  - id: bench.reports
    agency: bench
    kind: file_drop
    format: csv
    location: inbox
    schedule: "@daily"
    releasability: partners
    schema_version: 1
    entity: none
    mapping:
      record_id: [report_id]
      occurred_at: {fields: [reported], format: dayfirst, patterns: ["%d/%m/%Y %H:%M"]}
      supersedes: [replaces]
      event_types: {reported: r.reported, corrected: r.corrected, retracted: r.retracted}
"""


def make_csv(path: Path, rows: int) -> None:
    """A 15-column CSV shaped like an agency export (~200 bytes a row)."""
    con = plain_duckdb()
    con.execute(
        f"""COPY (
        SELECT 'R-' || i AS report_id,
            strftime(TIMESTAMP '2026-01-01' + to_minutes(i % 500000), '%d/%m/%Y %H:%M') AS reported,
            CASE WHEN i % 50 = 0 THEN 'R-' || (i - 1) END AS replaces,
            'CR0' || (i % 6 + 1) AS admin1, 'CR0' || (i % 6 + 1) || lpad((i % 9 + 1)::VARCHAR, 2, '0') AS admin2,
            round(1 + (i % 3000) / 1000.0, 5)::VARCHAR AS lat, round(30.5 + (i % 5000) / 1000.0, 5)::VARCHAR AS lon,
            (ARRAY['Food Security','Health','WASH','Shelter','Protection'])[i % 5 + 1] AS sector,
            (i % 997)::VARCHAR AS quantity, 'kg' AS unit, (i % 300)::VARCHAR AS reached,
            'ORG-' || (i % 40) AS org, md5(i::VARCHAR) AS ref, 'delivered to site ' || (i % 211) AS note,
            CASE WHEN i % 3 = 0 THEN 'verified' ELSE 'reported' END AS status
        FROM range({rows}) t(i)) TO '{path}' (HEADER)"""
    )


def floor_copy(csv: Path, out: Path) -> None:
    con = plain_duckdb()
    con.execute(
        f"COPY (SELECT * FROM read_csv('{csv}', all_varchar=true)) TO '{out}' (FORMAT parquet)"
    )
    con.close()


def envelope_floor(csv: Path, out: Path) -> None:
    """DuckDB alone computing the ingest's envelopes (`envelope_sql`, the same SQL) over
    `read_csv` and writing the events: the per-record work the plain copy does not do,
    without the hub around it (landing, decoding, the duplicate check, the commit).

    Row positions are left out of `source_ref`: SQL can number a CSV's rows only with a
    window (`row_number() OVER ()`), which took longer at 1M rows than all the rest."""
    from ingest.feeds.decode.delimited import first_row
    from ingest.feeds.decode.model import unique_names
    from ingest.feeds.envelope import envelope_sql
    from ingest.feeds.registry import parse_registry
    from ingest.log.eventlog import EVENT_COLUMNS, EVENT_FILE
    from ingest.sessions import connect

    feed = parse_registry(FEED_YAML, {}, out.parent).feeds[0]
    with csv.open("rb") as f:
        header, _, _ = first_row(f.read(1 << 20), None)
    # the column names the decoder gives the ingest's batch
    names = unique_names(header)
    rows = f"read_csv('{csv}', all_varchar=true)"
    sql = envelope_sql(feed, names, rows, source_sha256="0" * 64, load_id="floor")
    con = connect()
    con.execute(
        f"COPY (SELECT {', '.join(EVENT_COLUMNS)} FROM ({sql}) WHERE quarantine_reason IS NULL) "
        f"TO '{out}' {EVENT_FILE}",
        {"recorded_at": datetime.now(UTC)},
    )
    con.close()


def warm_imports() -> None:
    """Import what the ingest path uses."""
    import ingest.feeds.connectors.file_drop
    import ingest.feeds.decode.delimited
    import ingest.feeds.pipeline  # noqa: F401

    pa.array([0])  # pyarrow imports pandas on its first conversion of Python values


def import_cold() -> float:
    """Seconds a fresh interpreter takes to import what the ingest path uses (DuckDB
    included); then imports it here.

    The timed runs fork from this process once it has imported them, as the floor runs
    in a process that has imported DuckDB: imports are a fixed cost per worker process,
    not per record, so they are reported on their own."""
    timed = (
        "import time; start = time.perf_counter(); "
        "from bench.ingest import warm_imports; warm_imports(); "
        "print(time.perf_counter() - start)"
    )
    repo = Path(__file__).resolve().parents[1]
    out = subprocess.run(
        [sys.executable, "-c", timed], cwd=repo, check=True, capture_output=True, text=True
    ).stdout
    warm_imports()
    return float(out)


def ingest_once(csv: Path, root: Path) -> int:
    """`peaceops ingest` of the file dropped (hard-linked) into the feed's inbox."""
    from ingest import stages
    from ingest.settings import Settings

    root.mkdir(parents=True)
    (root / "feeds.yaml").write_text(FEED_YAML)
    settings = Settings.resolve({}, data_dir=root, feeds_file=root / "feeds.yaml")
    inbox = Path(settings.registry.feeds[0].location)
    inbox.mkdir(parents=True)
    (inbox / csv.name).hardlink_to(csv)
    (result,) = stages.ingest(settings, strict=True)
    assert result.counts.reconciles, result
    return result.counts.appended


def ingest_fresh(csv: Path, root: Path) -> int:
    """One timed ingest into an empty log (removed afterwards)."""
    try:
        appended = ingest_once(csv, root)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return appended


def run(rows: int) -> list[Row]:
    """Best of 3 at up to 1M rows, a single run above (each run in its own process,
    so its peak memory is its own)."""
    repeats = 3 if rows <= 1_000_000 else 1
    work = Path(tempfile.mkdtemp(prefix="peaceops-bench-"))
    try:
        csv = work / "reports.csv"
        make_csv(csv, rows)
        size_mb = csv.stat().st_size / 1e6
        floor = best_of(repeats, lambda: floor_copy(csv, work / "floor.parquet"))
        envelope = best_of(repeats, lambda: envelope_floor(csv, work / "envelope.parquet"))
        imports = import_cold()
        runs = [in_child(ingest_fresh, csv, work / f"log{i}") for i in range(repeats)]
        for appended, _, _ in runs:
            assert appended == rows
        best = min(seconds for _, seconds, _ in runs)
        peak = max(mb for _, _, mb in runs)
        return [
            Row(
                "ingest",
                f"{rows / 1e6:g}M rows CSV ({size_mb:.0f} MB)",
                best,
                # the floor is DuckDB alone computing the same envelopes: the hub around
                # them (landing, decoding, the duplicate check, the commit) may cost 25%
                envelope,
                {
                    "rows_per_s": f"{rows / best:,.0f}",
                    "target_ratio": TARGET_RATIO,
                    "envelope_floor_s": f"{envelope:.2f}",
                    # DuckDB's plain copy of the file, for scale: no envelope at all
                    "plain_copy_floor_s": f"{floor:.2f}",
                    "ratio_to_plain_copy": f"{best / floor:.2f}",
                    "cold_imports_s": f"{imports:.1f}",
                    "peak_mb": f"{peak:,.0f}",
                },
            )
        ]
    finally:
        shutil.rmtree(work, ignore_errors=True)
