"""Checkpoints: a reader takes the newest checkpoint plus the records after it, and reads
exactly what the records alone say, whatever the loads, compactions and replays; a
checkpoint that is damaged or half-written (a killed writer) leaves a readable log."""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.feeds.decide import decide
from ingest.feeds.envelope import envelope_sql
from ingest.feeds.registry import Feed, parse_registry
from ingest.log import eventlog
from ingest.log.eventlog import CHECKPOINT_DEBRIS_AGE, Commit, EventLog
from ingest.sessions import connect
from tests.conftest import append, batch, two_feed_registry

REPO = Path(__file__).parents[2]


def forget() -> None:
    """As a new process: nothing parsed yet."""
    eventlog._PARSED.clear()
    eventlog._CHECKPOINTS.clear()


def state(log: EventLog) -> tuple:
    """Everything a reader gets from the commit records."""
    forget()
    events = connect().sql(f"SELECT event_id, load_id FROM ({log.select_sql()}) ORDER BY ALL")
    return (
        log.commits(),
        log.live_files(),
        log.retired(),
        log.quarantine_files(),
        events.fetchall(),
    )


def replay(log: EventLog, feed: Feed, text: str) -> None:
    with log.begin(feed.id) as load:
        live = [c.load_id for c in log.commits(feed.id) if c.kind != "compaction"]
        load.retire([i for i in live if i not in log.retired()])
        b = batch([{"id": "A", "when": "2026-10-30", "text": text}])
        sql = envelope_sql(feed, b.column_names, "batch", source_sha256=text, load_id=load.load_id)
        load.store(decide(sql), b, source={"sha256": text, "name": "t"})
        load.commit()


OPS = st.lists(
    st.sampled_from(["append 0", "append 1", "compact 0", "replay 1", "bad 0", "checkpoint"]),
    min_size=1,
    max_size=7,
)


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(ops=OPS, every=st.integers(1, 3))
def test_a_checkpointed_log_reads_as_its_records_say(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch, ops, every
):
    folder = tmp_path_factory.mktemp("log")
    feeds = parse_registry(two_feed_registry(folder).read_text(), {}, folder).feeds
    monkeypatch.setenv("PEACEOPS_CHECKPOINT_EVERY", str(every))
    log = EventLog(folder / "data")
    for i, op in enumerate(ops):
        what, _, which = op.partition(" ")
        feed = feeds[int(which or 0)]
        if what == "append":
            append(log, feed, [{"id": f"R{i}", "when": "2026-10-30"}])
        elif what == "bad":  # a load of quarantine only
            append(log, feed, [{"id": f"R{i}", "when": "not a time"}])
        elif what == "compact":
            log.compact(feed.id)
        elif what == "replay":
            replay(log, feed, f"v{i}")
        else:
            log.checkpoint()
    checkpointed = state(log)
    assert [c.seq for c in checkpointed[0]] == list(range(1, len(checkpointed[0]) + 1))
    shutil.rmtree(log.checkpoints_dir, ignore_errors=True)
    assert state(log) == checkpointed


@pytest.fixture
def log(tmp_path: Path, feed: Feed, monkeypatch: pytest.MonkeyPatch) -> EventLog:
    """Five loads, checkpointed after the fourth."""
    monkeypatch.setenv("PEACEOPS_CHECKPOINT_EVERY", "4")
    log = EventLog(tmp_path)
    for i in range(5):
        append(log, feed, [{"id": f"R{i}", "when": "2026-10-30"}])
    assert [p.name for p in log._checkpoints()] == [f"{4:012d}.json"]
    return log


def test_a_reader_opens_only_the_records_after_the_checkpoint(
    log: EventLog, monkeypatch: pytest.MonkeyPatch
):
    opened: list[Path] = []
    read = Commit.read
    monkeypatch.setattr(Commit, "read", lambda path: opened.append(path) or read(path))
    forget()
    assert [c.seq for c in log.commits()] == [1, 2, 3, 4, 5]
    assert [c.load_id for c in map(read, opened)] == [log.commits()[-1].load_id]


def test_a_record_replaced_or_removed_after_the_checkpoint_is_read_as_it_is_now(log: EventLog):
    first, second = log.commits()[:2]
    path = log.commits_dir / f"{first.load_id}.json"
    swapped = path.with_suffix(".new")
    swapped.write_bytes(path.read_bytes().replace(b'"cursor"', b'"cursorr"'))
    swapped.replace(path)  # another inode than the checkpoint read
    (log.commits_dir / f"{second.load_id}.json").unlink()
    forget()
    assert [c.seq for c in log.commits()] == [3, 4, 5]
    assert path in log.unreadable_commits()


def test_a_damaged_checkpoint_is_skipped_with_a_warning(log: EventLog, caplog):
    records = state(log)
    (checkpoint,) = log._checkpoints()
    checkpoint.write_bytes(checkpoint.read_bytes()[:1000])
    caplog.set_level(logging.WARNING, logger="ingest.log.eventlog")
    assert state(log) == records
    assert checkpoint.name in caplog.text


# The child commits three loads with a checkpoint due at the third, and is killed while
# the checkpoint's bytes are being made durable: after its load is committed.
KILLED_IN_CHECKPOINT = """
import os, signal, sys
from pathlib import Path
from ingest.log.eventlog import EventLog
from tests.conftest import append, make_feed

fsync = os.fsync
def dying_fsync(fd):
    if "/_checkpoints/" in os.readlink(f"/proc/self/fd/{fd}"):
        os.kill(os.getpid(), signal.SIGKILL)
    fsync(fd)
os.fsync = dying_fsync

root = Path(sys.argv[1])
feed = make_feed(root)
for i in range(3):
    append(EventLog(root), feed, [{"id": f"R{i}", "when": "2026-10-30"}])
"""


def test_a_crash_mid_checkpoint_leaves_a_readable_log(
    tmp_path: Path, feed: Feed, monkeypatch: pytest.MonkeyPatch
):
    env = {**os.environ, "PEACEOPS_CHECKPOINT_EVERY": "3", "PYTHONPATH": str(REPO)}
    child = subprocess.run(
        [sys.executable, "-c", KILLED_IN_CHECKPOINT, str(tmp_path)], cwd=REPO, env=env
    )
    assert child.returncode == -signal.SIGKILL
    log = EventLog(tmp_path)
    (debris,) = log.checkpoints_dir.iterdir()
    assert debris.name.startswith(".") and log._checkpoints() == []
    forget()
    assert [c.seq for c in log.commits()] == [1, 2, 3]  # the third load is committed
    # the next commit checkpoints, and debris old enough to be a dead writer's goes
    old = time.time() - CHECKPOINT_DEBRIS_AGE - 1
    os.utime(debris, (old, old))
    monkeypatch.setenv("PEACEOPS_CHECKPOINT_EVERY", "3")
    append(log, feed, [{"id": "R3", "when": "2026-10-30"}])
    assert [p.name for p in log.checkpoints_dir.iterdir()] == [f"{4:012d}.json"]
    forget()
    assert [c.seq for c in log.commits()] == [1, 2, 3, 4]
