"""One bad file never stops its feed: through the real ingest path (`ingest_feed`) on an
inbox of small files, each broken the way real agency files are."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ingest.feeds import pipeline
from ingest.feeds.pipeline import ingest_feed
from ingest.feeds.registry import parse_registry
from ingest.log.eventlog import EventLog
from ingest.paths import state_dir
from ingest.serve.status import status
from ingest.sessions import connect

FEED_YAML = """
version: 2
agencies: [{id: ngo, name: An NGO, kind: NGO}]
feeds:
  - id: ngo.reports
    agency: ngo
    kind: file_drop
    format: csv
    location: inbox
    schedule: "@daily"
    releasability: partners
    schema_version: 1
    entity: incident
    mapping:
      record_id: [id]
      occurred_at: {fields: [date], format: iso}
      incident_type: [type]
"""


def run(root: Path, files: dict[str, str]) -> pipeline.FeedResult:
    inbox = root / "inbox"
    inbox.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (inbox / name).write_text(text, encoding="utf-8")
    feed = parse_registry(FEED_YAML, {}, root).feeds[0]
    return ingest_feed(feed, root)


def quarantine(root: Path) -> list[tuple[str, str]]:
    files = EventLog(root).quarantine_files()
    if not files:
        return []
    listed = ", ".join(f"'{f}'" for f in files)
    return connect().sql(f"SELECT reason, message FROM read_parquet([{listed}])").fetchall()


def payloads(root: Path) -> list[dict]:
    sql = EventLog(root).select_sql("ngo.reports")
    return [json.loads(p) for (p,) in connect().sql(f"SELECT payload FROM ({sql})").fetchall()]


GOOD = "id,date,type\nA1,2026-03-01,riot\nA2,2026-03-02,looting\n"


def test_a_file_missing_a_mapped_column_is_set_aside_with_what_it_has(tmp_path: Path):
    result = run(
        tmp_path,
        {"good.csv": GOOD, "renamed.csv": "id,when,type\nB1,2026-03-01,riot\nB2,2026-03-02,x\n"},
    )
    assert result.ok and result.counts.appended == 2
    (row,) = quarantine(tmp_path)
    assert row == (
        "missing_column",
        "no column 'date' (occurred_at in feeds.yaml) in this file; its columns: id, when, type",
    )
    assert result.counts.reconciles
    assert any(n.startswith("renamed.csv: set aside, missing_column") for n in result.notes)


def test_a_file_that_breaks_loading_is_set_aside_and_the_others_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    real = pipeline.add_payloads

    def breaks_on_bad(load, feed, payloads):
        if any(p.source["name"] == "bad.csv" and p.decoded.records.num_rows for p in payloads):
            raise RuntimeError("something no one foresaw\nwith a second line")
        return real(load, feed, payloads)

    monkeypatch.setattr(pipeline, "add_payloads", breaks_on_bad)
    result = run(
        tmp_path,
        {"a.csv": GOOD, "bad.csv": GOOD.replace("A", "B"), "z.csv": GOOD.replace("A", "C")},
    )
    assert result.ok
    assert result.counts.appended == 4  # a.csv and z.csv: batched with bad.csv, retried alone
    assert quarantine(tmp_path) == [
        ("unloadable_file", "RuntimeError: something no one foresaw with a second line")
    ]
    assert result.counts.reconciles


def test_the_hubs_own_column_names_in_an_agencys_data_are_kept(tmp_path: Path):
    result = run(tmp_path, {"a.csv": "id,date,type,_pos,_source\nA1,2026-03-01,riot,north,radio\n"})
    assert result.counts.appended == 1
    (payload,) = payloads(tmp_path)
    assert payload["_pos"] == "north" and payload["_source"] == "radio"
    (commit,) = EventLog(tmp_path).commits("ngo.reports")
    assert commit.sources[0]["appended"] == 1


def test_columns_sql_would_confuse_are_both_kept(tmp_path: Path):
    """`id,ID` failed the whole feed (`Duplicate named argument "id"`)."""
    result = run(tmp_path, {"a.csv": "id,ID,date,type\nA1,x-1,2026-03-01,riot\n"})
    assert result.ok and result.counts.appended == 1
    (payload,) = payloads(tmp_path)
    assert payload["id"] == "A1" and payload["ID_2"] == "x-1"


def test_hidden_empty_header_only_and_blank_rows_are_reported(tmp_path: Path):
    result = run(
        tmp_path,
        {
            ".~lock.a.csv#": "whatever",
            "empty.csv": "",
            "header.csv": "id,date,type\n",
            "blanks.csv": "id,date,type\n,,\nA1,2026-03-01,riot\n,,\n,,\n",
        },
    )
    assert result.ok and result.counts.read == 1 and result.counts.appended == 1
    assert result.notes == [
        ".~lock.a.csv#: skipped, hidden file (its name starts with a dot)",
        "blanks.csv: 3 blank rows skipped (no value in any column)",
        "empty.csv: empty file (no records; a header at most)",
        "header.csv: empty file (no records; a header at most)",
    ]
    (commit,) = EventLog(tmp_path).commits("ngo.reports")
    assert {s["name"]: s.get("blank_rows", 0) for s in commit.sources}["blanks.csv"] == 3
    pulled = json.loads((state_dir(tmp_path) / "pulls" / "ngo.reports.json").read_text())
    assert pulled["notes"] == result.notes
    feed = parse_registry(FEED_YAML, {}, tmp_path).feeds[0]
    (shown,) = status(tmp_path, [feed])["feeds"]
    assert shown["last_notes"] == result.notes  # and `peaceops status` prints them
