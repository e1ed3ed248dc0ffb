"""`python -m bench [--quick]`: run the benchmarks, print one table, save JSON."""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable

from bench import ingest, peers, resolution, spark, warehouse
from bench.common import Row, print_table, save

SIZES = [1_000_000, 3_000_000, 10_000_000]
# the warehouse stages whose growth with the log is fitted
GROWING = (
    "ingest-sim",
    "build-full",
    "build-incr",
    "gate-full",
    "gate-incr",
    "publish-first",
    "publish",
    "freshness",
)


def growth(measured: list[Row], sizes: list[int], what: str) -> Row:
    """Least-squares exponent k of time ~ size^k across the sizes (1 means linear)."""
    xs = [math.log(n) for n in sizes]
    ys = [math.log(r.seconds) for r in measured]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    k = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum(
        (x - mx) ** 2 for x in xs
    )
    sizes_text = ", ".join(f"{n / 1e6:g}M" for n in sizes)
    return Row(
        "growth", f"{what} at {sizes_text}", measured[-1].seconds, None, {"exponent": f"{k:.2f}"}
    )


def warehouse_sizes(
    sizes: list[int], run: Callable[[int], list[Row]]
) -> tuple[list[Row], list[str]]:
    """The warehouse benchmark's rows at each size, and a one-line failure per size whose
    chain failed (a build out of memory, say): the other sizes are still measured."""
    rows: list[Row] = []
    failures: list[str] = []
    for n in sizes:
        try:
            rows += run(n)
        except RuntimeError as err:
            message = f"the warehouse at {n:,} events failed: {str(err).splitlines()[0][:300]}"
            print(f"bench: {message}", file=sys.stderr)
            rows.append(Row("warehouse", f"{n:,} events: FAILED", 0.0, None, {"error": message}))
            failures.append(message)
    return rows, failures


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description=__doc__,
        epilog="Without options: ingest and the warehouse at 1M, 3M and 10M, with growth exponents, "
        "and resolution at scales 1, 3 and 10.",
    )
    parser.add_argument("--quick", action="store_true", help="1M only (no growth curves)")
    parser.add_argument(
        "--rows", type=int, nargs="+", default=None, help="CSV sizes for the ingest benchmark"
    )
    parser.add_argument(
        "--events",
        type=int,
        nargs="*",
        default=None,
        help="event log sizes for the warehouse benchmark (none: skip it)",
    )
    parser.add_argument(
        "--resolution",
        type=float,
        nargs="*",
        default=None,
        help="simulated densities (scales) at which to score cross-agency resolution "
        "(default: 1 3 10; none: skip it)",
    )
    parser.add_argument(
        "--peers",
        action="store_true",
        help="also time polars, pandas and dlt on the ingest benchmark's file (dev dependencies)",
    )
    parser.add_argument(
        "--dashboard",
        action="store_true",
        help="also time the dashboard's pages in headless Chromium (bench/dashboard.py) on "
        "each published warehouse, or on a 14-day demo when no warehouse size is run",
    )
    parser.add_argument(
        "--spark",
        type=int,
        nargs="*",
        default=[],
        help="event log sizes for the full build on Spark against DuckDB's (the `spark` extra)",
    )
    args = parser.parse_args()
    sizes = [1_000_000] if args.quick else SIZES
    row_sizes = args.rows or sizes
    event_sizes = sizes if args.events is None else args.events
    rows: list[Row] = []
    ingests = [r for n in row_sizes for r in ingest.run(n)]
    rows += ingests
    if len(row_sizes) > 1:
        rows.append(growth(ingests, row_sizes, "ingest time vs rows"))
    if args.peers:
        rows += peers.run(row_sizes[0])
    stage_rows, failures = warehouse_sizes(
        event_sizes, lambda n: warehouse.run(n, dashboard=args.dashboard)
    )
    rows += stage_rows
    stages: dict[str, list[Row]] = {}
    for r in stage_rows:
        if r.bench in GROWING:
            stages.setdefault(r.bench, []).append(r)
    for stage, measured in stages.items():
        if len(measured) == len(event_sizes) > 1:
            rows.append(growth(measured, event_sizes, f"{stage} time vs events"))
    if args.dashboard and not event_sizes:
        from bench import dashboard

        demo = dashboard.run_demo_data()
        rows += dashboard.measure(demo, "14-day demo")
    for n in args.spark:
        rows += spark.run(n)
    scales = resolution.SCALES if args.resolution is None else args.resolution
    for scale in scales:
        rows += resolution.run(scale)
    print_table(rows)
    print(f"saved {save(rows, 'latest')}")
    if failures:
        sys.exit("bench: " + "; ".join(failures))


if __name__ == "__main__":
    main()
