"""Shared helpers for benchmarks: timing, peak memory of a child process, result tables."""

from __future__ import annotations

import json
import resource
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).parent / "results"


def plain_duckdb(database: str | Path = ":memory:", *, read_only: bool = False) -> Any:
    """DuckDB as an analyst opens it (no hub settings: the floors are DuckDB's own), less
    the download of an extension on first use that no session of the hub may do, and
    less the progress bar (it would draw over the bench's own progress lines)."""
    import duckdb

    from ingest.sessions import NO_EXTENSION_AUTOLOAD

    con = duckdb.connect(str(database), read_only=read_only, config=NO_EXTENSION_AUTOLOAD)
    con.execute("SET enable_progress_bar = false")
    return con


@dataclass
class Row:
    bench: str
    case: str
    seconds: float
    floor_seconds: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        return None if not self.floor_seconds else self.seconds / self.floor_seconds


@contextmanager
def timer() -> Any:
    box = {"seconds": 0.0}
    start = time.perf_counter()
    try:
        yield box
    finally:
        box["seconds"] = time.perf_counter() - start


def best_of(n: int, fn: Callable[[], Any]) -> float:
    """The fastest of n runs: the least disturbed by the rest of the machine."""
    times = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def print_table(rows: list[Row]) -> None:
    header = f"{'bench':<12} {'case':<34} {'seconds':>9} {'floor s':>9} {'ratio':>7}  extra"
    print(header)
    print("-" * len(header))
    for r in rows:
        floor = f"{r.floor_seconds:9.2f}" if r.floor_seconds else " " * 9
        ratio = f"{r.ratio:6.2f}x" if r.ratio else " " * 7
        extra = ", ".join(f"{k}={v}" for k, v in r.extra.items())
        print(f"{r.bench:<12} {r.case:<34} {r.seconds:9.2f} {floor} {ratio}  {extra}")


def save(rows: list[Row], name: str) -> Path:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    payload = [{**asdict(r), "ratio": r.ratio} for r in rows]
    path.write_text(json.dumps(payload, indent=1))
    return path
