"""An event written under an older schema_version of its feed reads as the newest, through
the upcasters of ingest.log.upcast; its id, and events already of the newest layout, stay as
they are."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ingest.feeds.registry import parse_registry
from ingest.log import upcast
from ingest.log.eventlog import EventLog
from ingest.sessions import connect
from tests.conftest import TEST_FEED_YAML, append

# v1 -> v2: `text` renamed `body`; v2 -> v3: a `lang` field, English unless given (JSON
# merge patches: fields without a value are dropped)
STEPS = {
    ("test.reports", 1): lambda p: (
        f"CAST(json_merge_patch({p}, json_object('body', {p}->>'text', 'text', NULL)) AS VARCHAR)"
    ),
    ("test.reports", 2): lambda p: (
        f"CAST(json_merge_patch(json_object('lang', 'en'), {p}) AS VARCHAR)"
    ),
}


def rows(log: EventLog) -> list[tuple]:
    sql = f"SELECT record_id, event_id, schema_version, payload FROM ({log.select_sql()})"
    return [
        (r[0], r[1], r[2], json.loads(r[3]))
        for r in connect().sql(f"{sql} ORDER BY record_id").fetchall()
    ]


def test_old_payloads_read_as_the_newest_layout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    log = EventLog(tmp_path)
    v1 = parse_registry(TEST_FEED_YAML, {}, tmp_path).feeds[0]
    v3 = parse_registry(
        TEST_FEED_YAML.replace("schema_version: 1", "schema_version: 3"), {}, tmp_path
    ).feeds[0]
    append(log, v1, [{"id": "A", "when": "2026-10-30", "text": "old layout"}])
    ((_, event_id, version, payload),) = rows(log)
    assert (version, payload["text"]) == (1, "old layout")

    monkeypatch.setattr(upcast, "UPCASTERS", STEPS)
    # the feed's layout changed: its new records are stored as v3, and read as stored
    append(log, v3, [{"id": "B", "when": "2026-10-31", "text": "v3 text"}])
    (a, b) = rows(log)
    assert a[:3] == ("A", event_id, 3)
    assert a[3] == {
        **{k: v for k, v in payload.items() if k != "text" and v is not None},
        "body": "old layout",
        "lang": "en",
    }
    assert b[2:] == (
        3,
        {"id": "B", "when": "2026-10-31", "text": "v3 text", "replaces": None, "status": None},
    )
    # an upcast payload is not a new event: the same v1 record again is a duplicate
    counts, _ = append(log, v1, [{"id": "A", "when": "2026-10-30", "text": "old layout"}])
    assert (counts.appended, counts.duplicates) == (0, 1)


def test_no_upcaster_no_change(tmp_path: Path):
    """With no step for a feed (the hub today), readers get the stored columns as they are."""
    assert upcast.upcast_columns("p", "v", "f", upcasters={}) == ("p", "v")
    assert upcast.upcast_columns("p", "v", "f", {"other.feed"}, upcasters=STEPS) == ("p", "v")
