"""The scenario simulator: seven agencies reporting on one fictional country, Carana.

`simulate()` writes, deterministically from the seed, the gazetteer, the ground
truth, every feed's files (with the faults real feeds have, see docs/feeds.md)
and a manifest whose counts the ingest tests reconcile against.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ingest.lab.simulate import deliveries, incidents, patrols
from ingest.lab.simulate.formats import Scenario
from ingest.lab.simulate.gazetteer import Gazetteer, build_gazetteer
from ingest.lab.simulate.incidents import FeedOutput
from ingest.lab.simulate.truth import Truth, generate

__all__ = ["FEEDS", "default_start", "simulate"]

FeedFn = Callable[[Truth, Gazetteer, np.random.Generator, Scenario], FeedOutput]

# Order matters: `agencies=N` keeps the first N.
FEEDS: dict[str, FeedFn] = {
    "unmic.sitreps": incidents.unmic,
    "forcar.patrols": patrols.forcar,
    "ncbatt.patrols": patrols.ncbatt,
    "ocha.deliveries": deliveries.ocha,
    "fap.distributions": deliveries.fap,
    "moi.incidents": incidents.moi,
    "cpn.incidents": incidents.cpn,
}
# The truth links of every published report (truth/report_links.parquet); report_kind
# is report, correction or retraction (a retraction withdraws a real thing's report).
LINKS = pa.schema(
    [
        (name, pa.string())
        for name in ("feed_id", "record_id", "truth_kind", "truth_id", "report_kind")
    ]
)
# What simulate() owns under `out` and wipes before writing.
OWNED = ("gazetteer", "truth", "api", "inbox", "manifest.json")


def _wipe(out: Path) -> None:
    for name in OWNED:
        path = out / name
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()


# A patrol ends up to ~6.5 h after the midnight following its start day; the default
# period ends at least this long before now, so nothing reported lies in the future.
SETTLED = timedelta(hours=12)


def default_start(days: int, now: datetime | None = None) -> str:
    """The first day of a `days`-day period ending at the last UTC midnight at least
    SETTLED before `now`: today's, or yesterday's before noon."""
    end: date = ((now or datetime.now(UTC)).astimezone(UTC) - SETTLED).date()
    return (end - timedelta(days=days)).isoformat()


def simulate(
    out: Path,
    seed: int = 7,
    days: int = 30,
    *,
    scale: float = 1.0,
    agencies: int | None = None,
    start: str | None = None,
) -> dict:
    """Write the whole scenario under `out` and return (and write) its manifest. The
    period starts on `start` (default: it ends at the last settled midnight, see
    default_start)."""
    start = start or default_start(days)
    if days < 1:
        raise ValueError("days must be at least 1")
    if scale <= 0:
        raise ValueError("scale must be positive")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    _wipe(out)
    sc = Scenario(out=out, start=np.datetime64(start, "s"), days=days)
    gaz = build_gazetteer()
    gaz.write(out / "gazetteer")
    # Independent streams: the truth does not change with the number of agencies, and
    # each feed's faults do not depend on which other feeds were generated.
    truth = generate(np.random.default_rng([seed, 0]), gaz, sc.start, days, scale)
    truth.write(out / "truth")
    chosen = list(FEEDS.items())[: agencies if agencies is not None else len(FEEDS)]
    feeds: dict[str, dict[str, int]] = {}
    all_links = []
    for k, (feed_id, fn) in enumerate(FEEDS.items(), start=1):
        if (feed_id, fn) not in chosen:
            continue
        result = fn(truth, gaz, np.random.default_rng([seed, k]), sc)
        feeds[feed_id] = {
            "records": len(result.frame),
            "duplicates": int(result.frame["_dup"].sum()),
            "quarantined": int(result.frame["_quarantine"].sum()),
            "files": result.files,
        }
        # Kept as Arrow: a fraction of the memory of pandas' Python strings (a record
        # each), and the feed's frame goes before the next feed is generated.
        all_links.append(pa.Table.from_pandas(result.links, schema=LINKS, preserve_index=False))
        del result
    links = pa.concat_tables(all_links) if all_links else LINKS.empty_table()
    pq.write_table(links, out / "truth" / "report_links.parquet")
    manifest = {"seed": seed, "start": start, "days": days, "scale": scale, "feeds": feeds}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest
