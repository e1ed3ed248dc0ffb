"""`make demo`: simulate seven agencies, serve their HTTP feed, run the pipeline on them.

Everything stays on this machine: the simulated API listens on 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

# The simulated UNMIC API's own demo credentials (not a secret: the demo server
# generates data and accepts exactly these).
DEMO_CREDENTIALS = "demo-client:demo-secret"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m ingest.demo", description=__doc__)
    parser.add_argument("--days", type=int, default=30, help="days of simulated operation")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--data-dir", type=Path, default=None, help="default: $PEACEOPS_DATA_DIR or ./data"
    )
    return parser.parse_args()


def run_demo(root: Path, *, days: int, seed: int, credentials: str) -> None:
    from rich.console import Console

    from ingest.feedserver import serve
    from ingest.pipeline import ingest_all
    from ingest.registry import load_registry
    from ingest.simulate import simulate

    console = Console()
    console.rule("[bold]1. simulate the agencies")
    manifest = simulate(root / "sim", seed=seed, days=days)
    for feed_id, info in manifest["feeds"].items():
        console.print(f"  {feed_id:<20} {info['records']:>7,} records")

    console.rule("[bold]2. serve the UN mission's API on 127.0.0.1 and ingest every feed")
    server = serve(root / "sim", "127.0.0.1", 0)
    try:
        os.environ["PEACEOPS_FEEDS_URL"] = server.url
        os.environ.setdefault("PEACEOPS_UNMIC_CREDENTIALS", credentials)
        feeds = load_registry(data_dir=root)
        for r in ingest_all(feeds, root):
            c = r.counts
            status = "ok" if r.ok else f"FAILED: {r.error}"
            console.print(
                f"  {r.feed_id:<20} read {c.read:>7,}  events {c.appended:>7,}  "
                f"duplicates {c.duplicates:>5,}  quarantined {c.quarantined:>4,}  {status}"
            )
    finally:
        server.shutdown()

    console.rule("[bold]where to look")
    console.print(f"  event log:   {root / 'eventlog'}  (Hive-partitioned Parquet)")
    console.print(f"  quarantine:  {root / 'quarantine'}")
    console.print(
        '  try:  duckdb -c "SELECT feed_id, event_type, count(*) FROM '
        f"read_parquet('{root}/eventlog/feed_id=*/*.parquet', hive_partitioning=true) "
        'GROUP BY ALL ORDER BY ALL"'
    )


def main() -> None:
    args = parse_args()
    if args.data_dir is not None:
        os.environ["PEACEOPS_DATA_DIR"] = str(args.data_dir)
    from ingest.paths import data_dir

    root = data_dir()
    started = time.perf_counter()
    run_demo(root, days=args.days, seed=args.seed, credentials=DEMO_CREDENTIALS)
    print(f"\ndemo finished in {time.perf_counter() - started:.0f} s; data under {root}")


if __name__ == "__main__":
    main()
