"""A load's counts through the real ingest path, decoder rejects included: each record
read is appended, a duplicate or quarantined, once, and the commit (and each of its
payloads) says exactly how many of each; the quarantine holds exactly `quarantined` rows.

`read = appended + duplicates + quarantined` alone would not see a reject miscounted:
the difference lands in duplicates, which are computed. So every count is pinned."""

from __future__ import annotations

from pathlib import Path

from ingest.feeds.pipeline import ingest_feed
from ingest.feeds.registry import Feed
from ingest.log.eventlog import Commit, EventLog
from ingest.sessions import connect
from tests.conftest import drop

HEADER = "id,when,replaces,status,text\n"
# Two good records, one re-sent in the same file, a ragged row the decoder rejects, a
# record without an id and one with an unreadable time.
FIRST = (
    HEADER + "A,2026-10-30,,,a\n"
    "B,2026-10-31,,,b\n"
    "A,2026-10-30,,,a\n"
    "C,2026-10-31,,,c,one field too many\n"
    ",2026-10-31,,,no id\n"
    "D,31/02/2026,,,impossible date\n"
)
# A second file of the same run: a record of the first (a duplicate), a new one, and two
# ragged rows.
SECOND = HEADER + "B,2026-10-31,,,b\nE,2026-11-01,,,e\nF,x\nG,2026-11-01,,,g,,\n"


def quarantine_reasons(log: EventLog, commit: Commit) -> list[tuple[str, str]]:
    paths = [str(log.quarantine_dir / f) for f in commit.quarantine_files]
    # a session of its own: the module-wide default connection may hold another test's
    # unfinished result (tests/warehouse/test_macros.py), which duckdb 2.0 refuses to go past
    return (
        connect()
        .sql(
            f"select split_part(source_ref, '#', 1), reason from read_parquet({paths}) order by all"
        )
        .fetchall()
    )


def test_a_load_counts_decoder_rejects_as_read_and_quarantined(tmp_path: Path, feed: Feed) -> None:
    root = tmp_path / "data"
    drop(feed, "1.csv", FIRST)
    drop(feed, "2.csv", SECOND)
    result = ingest_feed(feed, root)
    assert result.ok, result.error
    log = EventLog(root)
    (commit,) = log.commits(feed.id)
    assert commit.counts == {"read": 10, "appended": 3, "duplicates": 2, "quarantined": 5}
    first, second = commit.sources
    assert (first["name"], second["name"]) == ("1.csv", "2.csv")
    counts = ("read", "appended", "duplicates", "quarantined")
    assert [first[k] for k in counts] == [6, 2, 1, 3]
    assert [second[k] for k in counts] == [4, 1, 1, 2]
    assert quarantine_reasons(log, commit) == sorted(
        [
            (first["sha256"], "missing_record_id"),
            (first["sha256"], "ragged_row"),
            (first["sha256"], "unreadable_time"),
            (second["sha256"], "ragged_row"),
            (second["sha256"], "ragged_row"),
        ]
    )


def test_a_file_set_aside_is_one_record_read_and_quarantined(tmp_path: Path, feed: Feed) -> None:
    root = tmp_path / "data"
    drop(feed, "renamed.csv", "ident,when\nA,2026-10-30\nB,2026-10-31\n")
    assert ingest_feed(feed, root).ok
    log = EventLog(root)
    (commit,) = log.commits(feed.id)
    assert commit.counts == {"read": 1, "appended": 0, "duplicates": 0, "quarantined": 1}
    assert [r for _, r in quarantine_reasons(log, commit)] == ["missing_column"]
