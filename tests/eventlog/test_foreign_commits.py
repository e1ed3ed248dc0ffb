"""A file in `eventlog/_commits/` that is not a commit record is reported and skipped:
it must not break every later command."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from click.testing import CliRunner

from ingest.cli import main
from ingest.feeds.registry import Feed
from ingest.log.eventlog import EventLog
from tests.conftest import TEST_FEED_YAML, append

STRAYS = {
    "garbage.json": b"\x00\xffnot json at all",
    "empty.json": b"",
    "other-shape.json": json.dumps({"hello": "world", "files": 3}).encode(),
    "a-list.json": b"[1, 2, 3]",
    # the right shape under another load's name: a copied record
    "20991231T000000.000000Z-test.reports-abcdef.json": None,
}


@pytest.fixture
def log(tmp_path: Path, feed: Feed) -> EventLog:
    log = EventLog(tmp_path / "data")
    _, commit = append(log, feed, [{"id": "A", "when": "2026-10-30"}])
    real = log.commits_dir / f"{commit.load_id}.json"
    for name, data in STRAYS.items():
        (log.commits_dir / name).write_bytes(data if data is not None else real.read_bytes())
    return log


def test_readers_skip_strays_with_a_warning_naming_each(log: EventLog, feed: Feed, caplog):
    caplog.set_level(logging.WARNING, logger="ingest.log.eventlog")
    assert [c.feed_id for c in log.commits()] == [feed.id]
    warned = caplog.text
    for name in STRAYS:
        assert name in warned
    # and the log goes on: a second load commits and reads beside the strays
    append(log, feed, [{"id": "B", "when": "2026-10-31"}])
    assert len(log.commits(feed.id)) == 2
    assert set(log.unreadable_commits()) == {log.commits_dir / n for n in STRAYS}


def test_status_and_events_show_the_strays(log: EventLog, tmp_path: Path, monkeypatch):
    registry = tmp_path / "feeds.yaml"
    registry.write_text(TEST_FEED_YAML)
    monkeypatch.setenv("PEACEOPS_FEEDS", str(registry))
    monkeypatch.setenv("PEACEOPS_DATA_DIR", str(log.root))
    monkeypatch.setenv("COLUMNS", "250")
    status = CliRunner().invoke(main, ["status"])
    assert status.exit_code == 0, status.output
    for name in STRAYS:
        assert f"{name}: " in status.output
    assert "not a commit record" in status.output
    events = CliRunner().invoke(main, ["events", "SELECT count(*) AS n FROM events"])
    assert events.exit_code == 0, events.output


def test_a_record_replaced_after_it_was_read_is_read_again(log: EventLog):
    """Records read once are reused (eventlog._PARSED) only while their name points at
    the same file: one swapped in by rename, as a restore from backup would, is parsed."""
    (commit,) = log.commits()
    path = log.commits_dir / f"{commit.load_id}.json"
    swapped = path.with_suffix(".new")
    swapped.write_bytes(path.read_bytes().replace(b'"cursor"', b'"cursorr"'))
    swapped.replace(path)
    assert log.commits() == []
    assert "not a commit record" in log.unreadable_commits()[path]
