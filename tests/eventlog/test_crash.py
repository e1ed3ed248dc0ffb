"""A load killed with SIGKILL at any point leaves the log as before or after it, never between."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ingest.log.eventlog import EventLog
from ingest.sessions import connect

# The child appends a first load, prints "ready", then runs a second load of
# N records (long enough to be killed at different stages) and prints "done".
CHILD = """
import sys
from pathlib import Path
import pyarrow as pa
from ingest.feeds.decode import POS
from ingest.feeds.decide import decide
from ingest.feeds.envelope import envelope_sql
from ingest.log.eventlog import EventLog
from tests.conftest import make_feed

root, n = Path(sys.argv[1]), int(sys.argv[2])
feed = make_feed(root)
log = EventLog(root)

def load(prefix, count):
    ids = pa.array([f"{prefix}{i}" for i in range(count)], pa.string())
    b = pa.table({"id": ids, "when": pa.array(["2026-11-01"] * count, pa.string()),
                  "text": ids, POS: ids})
    with log.begin(feed.id) as ld:
        sql = envelope_sql(feed, b.column_names, "batch", source_sha256="x", load_id=ld.load_id)
        ld.store(decide(sql), b, source={"sha256": prefix, "name": prefix})
        ld.commit()

if not log.commits():
    load("first-", 1000)
print("ready", flush=True)
load("second-", n)
print("done", flush=True)
"""

N = 300_000


def run_child(root: Path, kill_after: float | None) -> str:
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(root), str(N)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).parents[2],
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])},
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    if kill_after is None:
        out = proc.stdout.read()
        assert proc.wait(timeout=120) == 0
        return out.strip()
    time.sleep(kill_after)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    return "killed"


def committed_ids(root: Path) -> set[str]:
    log = EventLog(root)
    return {r[0] for r in connect().sql(f"SELECT event_id FROM ({log.select_sql()})").fetchall()}


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> tuple[set[str], set[str]]:
    """The log before and after the second load, from a run that is not killed."""
    root = tmp_path_factory.mktemp("reference")
    run_child(root, 0)  # killed at once: only the first load
    before = committed_ids(root)
    assert run_child(root, None) == "done"
    return before, committed_ids(root)


@pytest.mark.slow
@pytest.mark.parametrize("kill_after", [0.05, 0.3, 0.6, 0.9, 1.2, 1.6, 2.2])
def test_killed_load_leaves_before_or_after_state(tmp_path: Path, reference, kill_after):
    before, after = reference
    assert len(after) == len(before) + N
    run_child(tmp_path, kill_after)
    state = committed_ids(tmp_path)
    assert state in (before, after)
    # The next load of the feed cleans the debris and the log stays consistent.
    assert run_child(tmp_path, None) == "done"
    assert committed_ids(tmp_path) == after
    log = EventLog(tmp_path)
    live = {p.name for p in log.live_files()}
    on_disk = {p.name for p in (log.dir / "feed_id=test.reports").iterdir()}
    assert on_disk == live
