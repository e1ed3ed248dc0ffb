"""What reaches the disk before a commit record names it, seen through the system calls
(tests/diskspy.py; SIGKILL in test_crash.py cannot see it): event and quarantine files and
their folders, then the commit record's own bytes, then its rename, then the commits
folder; the files a compaction replaces go only after that.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ingest.feeds.registry import Feed
from ingest.log.eventlog import Commit, EventLog
from tests.conftest import append
from tests.diskspy import DiskSpy


@pytest.fixture
def disk() -> Iterator[DiskSpy]:
    with DiskSpy().watching() as spy:
        yield spy


def assert_committed_durably(disk: DiskSpy, log: EventLog, commit: Commit) -> int:
    """The order every commit keeps; returns where its record was renamed into place."""
    record = log.commits_dir / f"{commit.load_id}.json"
    renamed = disk.first("rename", record)
    # the record's bytes, written to a temporary name, are on disk before its rename
    temporary = disk.ops[renamed - 1][1]
    assert disk.ops[renamed - 1][0] == "from" and temporary.parent == log.commits_dir
    disk.before("fsync", temporary, renamed)
    data = [log.dir / f for f in commit.files]
    data += [log.quarantine_dir / f for f in commit.quarantine_files]
    assert data, "nothing to commit"
    for path in data:
        disk.before("fsync", path, renamed)
        # the name of a file (and of a folder made for it) is data of its folder
        disk.before("fsync", path.parent, renamed)
        disk.before("fsync", path.parent.parent, renamed)
    # and the rename itself is made durable by the commits folder's fsync
    assert ("fsync", log.commits_dir) in disk.ops[renamed:]
    return renamed


def test_a_load_is_on_disk_before_its_commit_record(
    tmp_path: Path, feed: Feed, disk: DiskSpy
) -> None:
    log = EventLog(tmp_path)
    rows = [{"id": "A", "when": "2026-10-30"}, {"id": "B", "when": "not a date"}]
    _, commit = append(log, feed, rows, datetime(2026, 11, 1, tzinfo=UTC))
    assert commit is not None and commit.files and commit.quarantine_files
    assert_committed_durably(disk, log, commit)


def test_compaction_removes_files_only_after_its_commit_is_durable(
    tmp_path: Path, feed: Feed, disk: DiskSpy
) -> None:
    log = EventLog(tmp_path)
    for i in range(3):
        append(log, feed, [{"id": str(i), "when": "2026-10-30"}])
    disk.ops.clear()
    commit = log.compact(feed.id)
    assert commit is not None
    renamed = assert_committed_durably(disk, log, commit)
    synced = disk.ops.index(("fsync", log.commits_dir), renamed)
    for name in commit.removes:
        assert disk.first("unlink", log.dir / name) > synced, name
