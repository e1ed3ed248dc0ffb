"""`python -m bench [--quick]`: run the benchmarks, print one table, save JSON."""

from __future__ import annotations

import argparse

from bench import ingest, warehouse
from bench.common import print_table, save


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="1M records only")
    parser.add_argument(
        "--rows", type=int, default=1_000_000, help="records for the ingest benchmark"
    )
    parser.add_argument(
        "--events",
        type=int,
        nargs="*",
        default=None,
        help="event log sizes for the warehouse benchmark (default: 1M; with --quick: 250k)",
    )
    args = parser.parse_args()
    sizes = args.events or ([250_000] if args.quick else [1_000_000])
    rows = ingest.run(args.rows)
    for n in sizes:
        rows += warehouse.run(n)
    print_table(rows)
    print(f"saved {save(rows, 'latest')}")


if __name__ == "__main__":
    main()
