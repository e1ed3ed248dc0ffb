"""Small payloads of one feed are appended in shared batches: the same events as one
batch per payload, and each payload's counts kept in the commit record."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.feeds.pipeline import Batcher, ingest_feed
from ingest.feeds.registry import parse_registry
from ingest.log.eventlog import EventLog
from ingest.sessions import connect

FEED_YAML = """
version: 2
agencies:
  - {id: test, name: Test agency, kind: NGO}
feeds:
  - id: test.reports
    agency: test
    kind: file_drop
    format: csv
    location: inbox
    schedule: "@daily"
    releasability: partners
    schema_version: 1
    entity: none
    mapping:
      record_id: [id]
      occurred_at: {fields: [date], format: iso}
      event_types: {reported: r.reported, corrected: r.corrected, retracted: r.retracted}
"""

FILES = {
    "a.csv": "id,date,note\nR1,2026-03-01,x\nR2,2026-03-02,y\nR3,2026-03-03,z\n",
    # R3 again (a duplicate), R4 new, R5 with a time nobody can read
    "b.csv": "id,date,note\nR3,2026-03-03,z\nR4,2026-03-04,w\nR5,someday,v\n",
    # other columns: its own batch, so no record's payload names another file's columns
    "c.csv": "id,date,place\nR6,2026-03-06,Bangui\n",
    "d.csv": "id,date,note\nR7,2026-03-07,u\n",
}


def ingest(root: Path) -> None:
    (root / "inbox").mkdir(parents=True)
    for name, text in FILES.items():
        (root / "inbox" / name).write_text(text)
    feed = parse_registry(FEED_YAML, {}, root).feeds[0]
    result = ingest_feed(feed, root)
    assert result.ok, result.error


def events(root: Path) -> list[tuple]:
    sql = EventLog(root).select_sql("test.reports")
    return connect().sql(f"SELECT event_id, payload, source_ref FROM ({sql}) ORDER BY 1").fetchall()


@pytest.fixture
def batched(tmp_path: Path) -> Path:
    ingest(tmp_path / "batched")
    return tmp_path / "batched"


def test_batches_hold_the_events_of_one_batch_per_payload(
    batched: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Batcher, "BATCH_ROWS", 1)
    ingest(tmp_path / "single")
    assert events(batched) == events(tmp_path / "single")
    assert len(events(batched)) == 6
    (commit,) = EventLog(batched).commits("test.reports")
    # a+b, c (other columns), d: three batches, three files
    assert len(commit.files) == 3
    (single,) = EventLog(tmp_path / "single").commits("test.reports")
    assert len(single.files) == 4


def test_each_payload_keeps_its_counts(batched: Path) -> None:
    (commit,) = EventLog(batched).commits("test.reports")
    counts = {
        s["name"]: (s["read"], s["appended"], s["duplicates"], s["quarantined"])
        for s in commit.sources
    }
    assert counts == {
        "a.csv": (3, 3, 0, 0),
        "b.csv": (3, 1, 1, 1),
        "c.csv": (1, 1, 0, 0),
        "d.csv": (1, 1, 0, 0),
    }
    assert commit.counts == {"read": 8, "appended": 6, "duplicates": 1, "quarantined": 1}
    payloads = [p for (_, p, _) in events(batched)]
    assert not any('"place"' in p for p in payloads if '"note"' in p)
