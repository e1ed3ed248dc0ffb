"""A paged pull commits a load every N pages: a server that goes down at page 46 of 53
costs the pages after the last commit only, and the next run takes every record
exactly once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ingest.feeds.pipeline import ingest_feed, pages_per_load
from ingest.lab.feedserver import Faults, serve
from ingest.log.eventlog import EventLog
from ingest.sessions import connect
from tests.connectors.test_http_json import ENV, FEED_ID, make_feed

PAGE = 10
RECORDS = 53 * PAGE


@pytest.fixture
def sim(tmp_path: Path) -> Path:
    folder = tmp_path / "sim" / "api" / FEED_ID
    folder.mkdir(parents=True)
    lines = [
        json.dumps({"report_id": f"R{i:03d}", "occurred_at": "2026-10-01"}) for i in range(RECORDS)
    ]
    (folder / "records.jsonl").write_text("\n".join(lines) + "\n")
    return tmp_path / "sim"


def pull(sim: Path, root: Path, faults: Faults):
    with serve(sim, faults=faults) as server:
        feed = make_feed(server.url, root).model_copy(update={"page_size": PAGE})
        return ingest_feed(feed, root, env=ENV, pages=20)


def test_a_failure_at_page_46_keeps_40_pages_and_the_rerun_takes_the_rest(sim, tmp_path):
    root = tmp_path / "data"
    failed = pull(sim, root, Faults(down_from=46))
    assert failed.error and "HTTP 500" in failed.error
    assert len(failed.loads) == 2 and failed.counts.read == 40 * PAGE
    log = EventLog(root)
    assert log.last_cursor(FEED_ID) == str(40 * PAGE)

    rerun = pull(sim, root, Faults())
    assert rerun.ok, rerun.error
    assert rerun.counts.read == 13 * PAGE and len(rerun.loads) == 1

    loads = log.commits(FEED_ID)
    assert sum(c.counts["read"] for c in loads) == RECORDS  # each record read once
    assert sum(c.counts["duplicates"] for c in loads) == 0
    ids = connect().sql(f"SELECT record_id FROM ({log.select_sql(FEED_ID)})").fetchall()
    assert sorted(r[0] for r in ids) == [f"R{i:03d}" for i in range(RECORDS)]


def test_pages_per_load_comes_from_the_argument_the_environment_or_the_default(monkeypatch):
    monkeypatch.delenv("PEACEOPS_PAGES_PER_LOAD", raising=False)
    assert pages_per_load() == 20
    monkeypatch.setenv("PEACEOPS_PAGES_PER_LOAD", "5")
    assert pages_per_load() == 5 and pages_per_load(7) == 7
    for bad in ("0", "many"):
        monkeypatch.setenv("PEACEOPS_PAGES_PER_LOAD", bad)
        with pytest.raises(ValueError, match="PEACEOPS_PAGES_PER_LOAD"):
            pages_per_load()
