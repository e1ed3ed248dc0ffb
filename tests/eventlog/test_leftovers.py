"""Leftovers of killed runs (a half-landed `.part` payload, a commit record being
written) are removed by the feed's next run or by `peaceops compact`; another feed's
are left to that feed, whose run may be under way."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from ingest.cli import main
from ingest.feeds.pipeline import ingest_feed
from ingest.feeds.registry import Feed
from ingest.log.eventlog import EventLog, feed_of, new_load_id
from tests.conftest import drop


def leftovers(log: EventLog, feed_id: str) -> list[Path]:
    part = log.root / "landing" / feed_id / f".{'0' * 64}.1a2b3c4d.part"
    tmp = log.commits_dir / f".{new_load_id(feed_id)}.json.5e6f7a8b.tmp"
    for path in (part, tmp):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("{half")
    return [part, tmp]


@pytest.mark.parametrize("cleaner", ["next run", "compact"])
def test_leftovers_of_killed_runs_are_removed(tmp_path: Path, feed: Feed, cleaner, monkeypatch):
    log = EventLog(tmp_path)
    drop(feed, "a.csv", "id,when\nA,2026-10-30\n")
    assert ingest_feed(feed, tmp_path).ok
    mine = leftovers(log, feed.id)
    others = leftovers(log, "other.feed")
    if cleaner == "next run":
        assert ingest_feed(feed, tmp_path).ok
    else:
        monkeypatch.setenv("PEACEOPS_DATA_DIR", str(tmp_path))
        result = CliRunner().invoke(main, ["compact", "--feed", feed.id])
        assert result.exit_code == 0, result.output
    assert [p for p in mine if p.exists()] == []
    assert all(p.exists() for p in others)
    assert len(log.commits(feed.id)) == 1


def test_feed_of_a_load_id():
    assert feed_of(new_load_id("unmic.sitreps")) == "unmic.sitreps"
    assert feed_of(new_load_id("a-b.c")) == "a-b.c"
