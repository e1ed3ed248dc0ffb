"""`python -m bench [--quick]`: run the benchmarks, print one table, save JSON."""

from __future__ import annotations

import argparse
import math

from bench import ingest, warehouse
from bench.common import Row, print_table, save


def growth(builds: list[Row], sizes: list[int]) -> Row:
    """Least-squares exponent k of time ~ size^k across the sizes (1 means linear)."""
    xs = [math.log(n) for n in sizes]
    ys = [math.log(r.seconds) for r in builds]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    k = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum(
        (x - mx) ** 2 for x in xs
    )
    return Row(
        "growth", "full build time vs events", builds[-1].seconds, None, {"exponent": f"{k:.2f}"}
    )


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--quick", action="store_true", help="small warehouse run (250k events); ingest stays 1M"
    )
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
    builds = []
    for n in sizes:
        stage_rows = warehouse.run(n)
        rows += stage_rows
        builds += [r for r in stage_rows if r.bench == "build-full"]
    if len(builds) > 1:
        rows.append(growth(builds, sizes))
    print_table(rows)
    print(f"saved {save(rows, 'latest')}")


if __name__ == "__main__":
    main()
