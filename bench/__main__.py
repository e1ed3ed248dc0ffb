"""`python -m bench [--quick]`: run the benchmarks, print one table, save JSON."""

from __future__ import annotations

import argparse

from bench import ingest
from bench.common import print_table, save


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="1M records only")
    parser.add_argument(
        "--rows", type=int, default=1_000_000, help="records for the ingest benchmark"
    )
    args = parser.parse_args()
    rows = ingest.run(args.rows)
    print_table(rows)
    print(f"saved {save(rows, 'latest')}")


if __name__ == "__main__":
    main()
