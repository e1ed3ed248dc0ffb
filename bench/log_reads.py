"""`python -m bench.log_reads [N]`: how long reading the log's commit list takes at N
commits (default 13,000: a year of loads of a dozen feeds), in a fresh process as every
CLI command and Airflow task is. Records are written straight to disk (no Parquet): only
the reading of commit records is measured."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

FEEDS = [f"agency{i}.feed" for i in range(12)]


def write_log(root: Path, n: int) -> None:
    """n commit records across the feeds, in commit order, as loads write them (then a
    checkpoint, where the log has them)."""
    from datetime import UTC, datetime, timedelta

    from ingest.log.eventlog import Commit, EventLog, new_load_id

    log = EventLog(root)
    log.commits_dir.mkdir(parents=True)
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    for i in range(n):
        feed = FEEDS[i % len(FEEDS)]
        now = t0 + timedelta(minutes=40 * i)
        load_id = new_load_id(feed, now)
        fields: dict[str, Any] = {
            "load_id": load_id,
            "feed_id": feed,
            "committed_at": now.isoformat(),
            "recorded_at": now.isoformat(),
            "known_at": now.isoformat(),
            "files": [f"feed_id={feed}/{load_id}-0.parquet"],
            "quarantine_files": [],
            "sources": [{"sha256": f"{i:064x}", "name": f"report-{i}.csv", "read": 100}],
            "counts": {"read": 100, "appended": 100, "duplicates": 0, "quarantined": 0},
        }
        if "seq" in Commit.__dataclass_fields__:
            fields["seq"] = i + 1
        record = json.dumps(asdict(Commit(**fields)), indent=1)
        (log.commits_dir / f"{load_id}.json").write_text(record)
    if hasattr(log, "checkpoint"):
        log.checkpoint()


def measure(root: Path) -> dict[str, float]:
    """Seconds of a first commits() and live_files() in this process, then a second."""
    from ingest.log.eventlog import EventLog

    out = {}
    started = time.perf_counter()
    n = len(EventLog(root).commits())
    out["commits_first"] = time.perf_counter() - started
    started = time.perf_counter()
    EventLog(root).commits()
    out["commits_again"] = time.perf_counter() - started
    started = time.perf_counter()
    EventLog(root).live_files()
    out["live_files_again"] = time.perf_counter() - started
    out["n"] = n
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.log_reads", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("n", nargs="?", type=int, default=13_000, help="commit records")
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)  # the child's
    args = parser.parse_args(argv)
    if args.measure:  # the child: measure one fresh process
        print(json.dumps(measure(args.measure)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_log(root, args.n)
        child = [sys.executable, "-m", "bench.log_reads", str(args.n), "--measure", str(root)]
        runs = [
            json.loads(subprocess.run(child, check=True, capture_output=True, text=True).stdout)
            for _ in range(5)
        ]
    best = {k: min(r[k] for r in runs) for k in runs[0]}
    print(json.dumps(best, indent=1))


if __name__ == "__main__":
    main()
