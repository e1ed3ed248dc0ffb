"""`make demo`: simulate seven agencies, serve their HTTP feed, run the whole pipeline on them
(ingest, build, check, publish).

Everything stays on this machine: the simulated API listens on 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING

from ingest.settings import Settings

if TYPE_CHECKING:
    from datetime import datetime

    from ingest.feeds.pipeline import FeedResult

# The simulated UNMIC API's own demo credentials (not a secret: the demo server
# generates data and accepts exactly these).
DEMO_CREDENTIALS = "demo-client:demo-secret"


def ingest_simulation(
    root: Path,
    feeds_file: Path,
    credentials: str = DEMO_CREDENTIALS,
    now: datetime | None = None,
) -> list[FeedResult]:
    """Ingest every feed of the simulation under `root / "sim"` through the real
    pipeline, the UN mission's API served from it on 127.0.0.1 for the time it takes.
    `now` is when the hub records the loads (default: now)."""
    from ingest import stages
    from ingest.lab.feedserver import serve

    server = serve(root / "sim", "127.0.0.1", 0)
    try:
        settings = Settings.resolve(
            demo_env(server.url, credentials), data_dir=root, feeds_file=feeds_file
        )
        return stages.ingest(settings, now=now)
    finally:
        server.shutdown()


def demo_env(feeds_url: str, credentials: str) -> dict[str, str]:
    """The process environment plus the simulated feeds' URL and the demo credentials."""
    return {
        **os.environ,
        "PEACEOPS_FEEDS_URL": feeds_url,
        "PEACEOPS_UNMIC_CREDENTIALS": credentials,
    }


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m ingest.lab.demo", description=__doc__)
    parser.add_argument("--days", type=int, default=30, help="days of simulated operation")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--data-dir", type=Path, default=None, help="default: $PEACEOPS_DATA_DIR or ./data"
    )
    return parser.parse_args()


def run_demo(root: Path, *, days: int, seed: int, credentials: str) -> bool:
    from rich.console import Console

    from ingest.commands.run import run_all
    from ingest.lab.feedserver import serve
    from ingest.lab.simulate import simulate

    console = Console()
    console.rule("[bold]1. simulate the agencies")
    manifest = simulate(root / "sim", seed=seed, days=days)
    for feed_id, info in manifest["feeds"].items():
        console.print(f"  {feed_id:<20} {info['records']:>7,} records")

    console.rule("[bold]2. serve the UN mission's API on 127.0.0.1; ingest, build, check, publish")
    server = serve(root / "sim", "127.0.0.1", 0)
    try:
        settings = Settings.resolve(demo_env(server.url, credentials), data_dir=root)
        summary = run_all(settings, console=console)
    finally:
        server.shutdown()

    console.rule("[bold]where to look")
    console.print(f"  event log:   {root / 'eventlog'}  (Hive-partitioned Parquet)")
    console.print(f"  quarantine:  {root / 'quarantine'}")
    console.print(f"  warehouse:   {root / 'warehouse' / 'build.duckdb'}")
    console.print(
        f"  data docs:   {root / 'gate' / 'gx' / 'uncommitted' / 'data_docs' / 'local_site' / 'index.html'}"
    )
    current = root / "published" / "current"
    if summary.published is not None:
        console.print(f"  published:   {current} -> {summary.published.name}")
        console.print(
            "               public/ partners/ mission/: unified.duckdb, parquet/, csv/ (HXL)"
        )
        console.print(
            f'  try:  duckdb -readonly {current}/mission/unified.duckdb -c "SELECT admin1_pcode, '
            "incident_type, count(*) AS incidents, sum(fatalities) AS fatalities "
            'FROM fct_incidents GROUP BY ALL ORDER BY incidents DESC LIMIT 10"'
        )
    else:
        console.print(f"  [red]not published[/]: stage {summary.failed_stage} failed")
    console.print(
        '  or:   duckdb -c "SELECT feed_id, event_type, count(*) FROM '
        f"read_parquet('{root}/eventlog/feed_id=*/*.parquet', hive_partitioning=true) "
        'GROUP BY ALL ORDER BY ALL"'
    )
    return summary.ok


def main() -> None:
    args = parse_args()
    root = Settings.resolve(data_dir=args.data_dir).data_dir
    started = time.perf_counter()
    ok = run_demo(root, days=args.days, seed=args.seed, credentials=DEMO_CREDENTIALS)
    print(f"\ndemo finished in {time.perf_counter() - started:.0f} s; data under {root}")
    if not ok:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
