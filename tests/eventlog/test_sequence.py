"""Commits of every feed in one order: a log-wide `seq`, taken atomically at commit time,
so "as of load X" is one snapshot of the whole log; logs from before `seq` keep working."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ingest.feeds.decide import decide
from ingest.feeds.envelope import envelope_sql
from ingest.feeds.registry import Feed, parse_registry
from ingest.log.eventlog import EventLog
from ingest.sessions import connect
from tests.conftest import append, batch, two_feed_registry

REPO = Path(__file__).parents[2]


@pytest.fixture
def feeds(tmp_path: Path) -> list[Feed]:
    return parse_registry(two_feed_registry(tmp_path).read_text(), {}, tmp_path).feeds


def ids(log: EventLog, **kw) -> list[str]:
    sql = f"SELECT feed_id || ':' || record_id FROM ({log.select_sql(**kw)}) ORDER BY ALL"
    return [r[0] for r in connect().sql(sql).fetchall()]


def test_as_of_a_load_is_every_feed_s_commits_up_to_it(tmp_path: Path, feeds: list[Feed]):
    """A load that began first (the older load id) but committed last is not in the log
    as of a load that committed before it: ids order one feed's loads, not the log's."""
    one, two = feeds
    log = EventLog(tmp_path / "data")
    with log.begin(two.id) as slow:  # its load id is taken now, before the other's
        _, first = append(log, one, [{"id": "A", "when": "2026-10-30"}])
        b = batch([{"id": "B", "when": "2026-10-30"}])
        sql = envelope_sql(two, b.column_names, "batch", source_sha256="s", load_id=slow.load_id)
        slow.store(decide(sql), b, source={"sha256": "s", "name": "t"})
        late = slow.commit()
    assert first is not None and late is not None and late.load_id < first.load_id
    assert (first.seq, late.seq) == (1, 2)
    assert [c.load_id for c in log.commits()] == [first.load_id, late.load_id]
    assert ids(log, as_of_load=first.load_id) == ["test.reports:A"]
    assert ids(log, as_of_load=late.load_id) == ["test.reports:A", "test.second:B"]
    with pytest.raises(ValueError, match="no committed load"):
        log.commits(as_of_load="20990101T000000.000000Z-test.reports-000000")


def test_as_of_a_load_before_a_replay_holds_what_the_replay_retired_later(
    tmp_path: Path, feeds: list[Feed]
):
    one, _ = feeds
    log = EventLog(tmp_path / "data")
    _, first = append(log, one, [{"id": "A", "when": "2026-10-30", "text": "old"}])
    with log.begin(one.id) as replay:
        replay.retire([first.load_id])
        b = batch([{"id": "A", "when": "2026-10-30", "text": "new"}])
        sql = envelope_sql(one, b.column_names, "batch", source_sha256="r", load_id=replay.load_id)
        replay.store(decide(sql), b, source={"sha256": "r", "name": "t"})
        replayed = replay.commit()
    assert first is not None and replayed is not None

    def texts(**kw) -> list[str]:
        sql = f"SELECT payload FROM ({log.select_sql(**kw)})"
        return [json.loads(r[0])["text"] for r in connect().sql(sql).fetchall()]

    assert texts(as_of_load=first.load_id) == ["old"]
    assert texts(as_of_load=replayed.load_id) == ["new"]


PARALLEL = """
import sys
from pathlib import Path
from ingest.log.eventlog import EventLog
from ingest.feeds.registry import parse_registry
from tests.conftest import TEST_FEED_YAML, append

root, feed_id, n = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
feed = parse_registry(TEST_FEED_YAML.replace("test.reports", feed_id), {}, root).feeds[0]
for i in range(n):
    append(EventLog(root), feed, [{"id": f"{feed_id}-{i}", "when": "2026-10-30"}])
"""


def test_parallel_ingests_of_different_feeds_take_distinct_seqs(tmp_path: Path):
    """Each commit takes the next number under the log's clock: no two alike, none
    skipped, whatever the interleaving of processes."""
    feeds, per_feed = [f"test.p{i}" for i in range(3)], 6
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", PARALLEL, str(tmp_path), feed_id, str(per_feed)], cwd=REPO
        )
        for feed_id in feeds
    ]
    assert [p.wait(timeout=300) for p in procs] == [0] * len(feeds)
    commits = EventLog(tmp_path).commits()
    assert [c.seq for c in commits] == list(range(1, len(feeds) * per_feed + 1))
    # the clock stamps commit times in the same order
    assert [c.committed_at for c in commits] == sorted(c.committed_at for c in commits)
    for feed_id in feeds:  # a feed's loads take ids under its lock: in commit order
        mine = [c.load_id for c in commits if c.feed_id == feed_id]
        assert mine == sorted(mine) and len(mine) == per_feed


def test_a_log_from_before_seq_is_ordered_by_commit_time_then_numbered_on(
    tmp_path: Path, feeds: list[Feed]
):
    one, two = feeds
    log = EventLog(tmp_path / "data")
    t0 = datetime(2026, 11, 1, tzinfo=UTC)
    for i, feed in enumerate([two, one, two]):
        append(log, feed, [{"id": f"R{i}", "when": "2026-10-30"}], t0 + timedelta(hours=i))
    # as an older version wrote them: no seq in the records nor in the clock
    for path in log.commits_dir.glob("*.json"):
        record = json.loads(path.read_bytes())
        del record["seq"]
        path.with_suffix(".old").write_text(json.dumps(record, indent=1))
        path.with_suffix(".old").replace(path)  # a new file, as another process would read
    clock = tmp_path / "data" / "state" / "locks" / "clock.lock"
    clock.write_text(clock.read_text().partition(" ")[0])
    legacy = {p.name: p.read_bytes() for p in log.commits_dir.glob("*.json")}
    before = ids(log)

    commits = log.commits()
    assert [c.seq for c in commits] == [1, 2, 3]
    assert [c.committed_at for c in commits] == sorted(c.committed_at for c in commits)
    _, fourth = append(log, one, [{"id": "R3", "when": "2026-10-30"}])
    assert fourth is not None and fourth.seq == 4
    assert log.checkpoint() is not None
    assert [c.seq for c in EventLog(log.root).commits()] == [1, 2, 3, 4]
    # the records of the old loads are never rewritten, and read the same
    assert {n: (log.commits_dir / n).read_bytes() for n in legacy} == legacy
    assert ids(log) == sorted([*before, "test.reports:R3"])
