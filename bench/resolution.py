"""Cross-agency resolution against the simulator's truth at several densities: 14 days
of the simulated operation at each scale (scale 1 is 20 incidents and 18 deliveries a
day), ingested, built, and scored pairwise (ingest.lab.simulate.score). The seconds are
the full build's; the precision and recall are what the row is for (docs/resolution.md).
"""

from __future__ import annotations

import shutil
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.common import Row, plain_duckdb
from bench.warehouse import build, ingest, write_registry

DAYS = 14
SCALES = [1.0, 3.0, 10.0]
PLURAL = {"incident": "incidents", "delivery": "deliveries"}


def run(scale: float, days: int = DAYS) -> list[Row]:
    from ingest.lab.simulate import simulate
    from ingest.lab.simulate.score import RESOLUTIONS, resolution
    from ingest.warehouse.runner import warehouse_path

    root = Path(tempfile.mkdtemp(prefix=f"bench-resolution-{scale:g}-"))
    try:
        start = datetime.now(UTC).date() - timedelta(days=days + 1)
        simulate(root / "sim", seed=7, days=days, scale=scale, start=start.isoformat())
        write_registry(root, start - timedelta(days=31))
        ingest(root)
        began = time.perf_counter()
        build(root, full_refresh=True)
        seconds = time.perf_counter() - began
        con = plain_duckdb(warehouse_path(root), read_only=True)
        try:
            scores = {e: resolution(con, root / "sim" / "truth", e) for e in RESOLUTIONS}
        finally:
            con.close()
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return [
        Row(
            "resolution",
            f"{PLURAL[entity]}, scale {scale:g}, {days} days",
            seconds,
            None,
            {
                "precision": f"{score.precision:.3f}",
                "recall": f"{score.recall:.3f}",
                "true_pairs": score.true_pairs,
            },
        )
        for entity, score in scores.items()
    ]
