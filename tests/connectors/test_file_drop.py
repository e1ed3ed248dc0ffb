"""file_drop: every ready file in the inbox, in name order, with its format."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.feeds.connectors import ConnectorError, Pulled, Skipped, pull
from ingest.feeds.connectors.file_drop import file_format
from tests.conftest import make_feed


def inbox_feed(tmp_path: Path, fmt: str = "csv"):
    feed = make_feed(tmp_path)
    return feed.model_copy(update={"format": fmt})


def test_yields_files_sorted_by_name_with_raw_bytes(tmp_path):
    feed = inbox_feed(tmp_path)
    inbox = Path(feed.location)
    inbox.mkdir(parents=True)
    (inbox / "b.csv").write_bytes(b"id\n2\n")
    (inbox / "a.csv").write_bytes(b"id\n1\n")
    (inbox / "c.json").write_bytes(b"[]")
    got = list(pull(feed, None, {}))
    assert [p.name for p in got] == ["a.csv", "b.csv", "c.json"]
    assert got[0].data == b"id\n1\n"
    assert [p.fmt for p in got] == ["csv", "csv", "json"]
    assert all(p.cursor is None for p in got)


def test_skips_hidden_partial_files_and_folders(tmp_path):
    feed = inbox_feed(tmp_path)
    inbox = Path(feed.location)
    (inbox / "sub").mkdir(parents=True)
    for name in (".hidden.csv", "upload.csv.tmp", "big.xlsx.part", "x.PART", "ok.csv"):
        (inbox / name).write_bytes(b"x")
    got = list(pull(feed, None, {}))
    assert [p.name for p in got if isinstance(p, Pulled)] == ["ok.csv"]
    # what is left alone is said, with why
    skipped = {p.name: p.reason for p in got if isinstance(p, Skipped)}
    assert skipped == {
        ".hidden.csv": "hidden file (its name starts with a dot)",
        "big.xlsx.part": "still being written (left for the next run)",
        "sub": "not a regular file",
        "upload.csv.tmp": "still being written (left for the next run)",
        "x.PART": "still being written (left for the next run)",
    }


def test_empty_inbox_yields_nothing(tmp_path):
    feed = inbox_feed(tmp_path)
    Path(feed.location).mkdir(parents=True)
    assert list(pull(feed, None, {})) == []


def test_missing_folder_names_feed_and_folder(tmp_path):
    feed = inbox_feed(tmp_path)
    with pytest.raises(ConnectorError) as err:
        pull(feed, None, {})
    assert "test.reports" in str(err.value) and feed.location in str(err.value)
    assert not Path(feed.location).exists()  # creates nothing


@pytest.mark.parametrize(
    ("name", "feed_format", "expected"),
    [
        ("a.csv", "csv", "csv"),
        ("a.csv", "hxl", "hxl"),
        ("a.CSV", "xlsx", "csv"),
        ("a.json", "csv", "json"),
        ("a.jsonl", "json", "jsonl"),
        ("a.ndjson", "json", "jsonl"),
        ("a.xlsx", "csv", "xlsx"),
        ("a.xml", "csv", "xml"),
        ("a.txt", "hxl", "hxl"),
        ("noext", "jsonl", "jsonl"),
    ],
)
def test_format_from_extension(name, feed_format, expected):
    assert file_format(name, feed_format) == expected


def test_unknown_kind_names_the_feed(tmp_path):
    feed = make_feed(tmp_path).model_copy(update={"kind": "ftp"})
    with pytest.raises(ValueError, match=r"test\.reports.*ftp"):
        pull(feed, None, {})
