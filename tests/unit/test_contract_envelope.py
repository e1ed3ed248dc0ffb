"""The envelope's fields as the contract reads them: record keys (alternatives, composite,
content hash) and the releasability rule that fails closed."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.feeds.decode import POS
from ingest.feeds.envelope import envelope_sql
from ingest.feeds.registry import Feed, parse_registry
from ingest.releasability import RELEASABILITY
from ingest.sessions import connect

FEED = """
version: 2
agencies: [{{id: acme, name: ACME, kind: NGO}}]
feeds:
  - id: acme.reports
    agency: acme
    kind: file_drop
    format: csv
    location: inbox
    schedule: "@daily"
    releasability: partners
    schema_version: 1
    entity: none
    mapping:
      record_id: {record_id}
      occurred_at: {{fields: [when], format: iso}}
{extra}
"""


def feed(record_id: str = "[id]", extra: str = "") -> Feed:
    text = FEED.format(record_id=record_id, extra=extra)
    return parse_registry(text, {}, Path("/tmp")).feeds[0]


def envelope(f: Feed, rows: list[dict[str, str | None]]) -> list[dict]:
    columns = sorted({k for r in rows for k in r})
    table = pa.table(
        {
            **{c: pa.array([r.get(c) for r in rows], pa.string()) for c in columns},
            POS: pa.array([f"row={i}" for i in range(len(rows))], pa.string()),
        }
    )
    con = connect()
    con.register("batch", table)
    sql = envelope_sql(f, table.column_names, "batch", source_sha256="s", load_id="l")
    result = con.execute(sql, {"recorded_at": "2026-11-01T00:00:00Z"})
    names = [d[0] for d in result.description]
    return [dict(zip(names, r, strict=True)) for r in result.fetchall()]


CLASSIFIED = (
    "      classification: {field: marking, values: {'UN Internal': mission, OPEN: public}}"
)


def level(marking_rows: list[dict[str, str | None]]) -> list[str]:
    return [e["releasability"] for e in envelope(feed(extra=CLASSIFIED), marking_rows)]


def test_classification_fails_closed():
    rows = [
        {"id": "1", "when": "2026-10-01", "marking": "Mission"},
        {"id": "2", "when": "2026-10-01", "marking": " PUBLIC "},
        {"id": "3", "when": "2026-10-01", "marking": "un internal"},
        {"id": "4", "when": "2026-10-01", "marking": "Open"},
        {"id": "5", "when": "2026-10-01", "marking": "secret-ish"},
        {"id": "6", "when": "2026-10-01", "marking": ""},
        {"id": "7", "when": "2026-10-01", "marking": None},
    ]
    assert level(rows) == [
        "mission",
        "public",
        "mission",
        "public",
        "restricted",  # unknown marking
        "restricted",  # blank
        "restricted",  # missing
    ]


def test_a_renamed_classification_column_makes_every_record_restricted():
    """The feed says its marking is in `marking`; a file that calls it `Classification`
    has no marking the hub can read: restricted, not the feed's default level."""
    rows = [{"id": "1", "when": "2026-10-01", "Classification": "public"}]
    assert level(rows) == ["restricted"]


def test_without_a_classification_field_the_feed_level_applies():
    rows = [{"id": "1", "when": "2026-10-01", "classification": "public"}]
    assert [e["releasability"] for e in envelope(feed(), rows)] == ["partners"]


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.none(), st.text(max_size=12), st.sampled_from([*RELEASABILITY, "OPEN"])))
def test_any_marking_gives_a_level_and_only_known_ones_are_below_restricted(marking):
    (got,) = level([{"id": "1", "when": "2026-10-01", "marking": marking}])
    assert got in RELEASABILITY
    known = {**{r: r for r in RELEASABILITY}, "un internal": "mission", "open": "public"}
    key = (marking or "").strip().lower()
    assert got == known.get(key, "restricted")


def test_composite_and_content_keys():
    composite = feed(record_id="{all: [org, place]}")
    rows = [
        {"org": "NRC", "place": "Kabul", "when": "2026-10-01"},
        {"org": "NRC", "place": None, "when": "2026-10-01"},
        {"org": None, "place": None, "when": "2026-10-01"},
    ]
    ids = [e["record_id"] for e in envelope(composite, rows)]
    assert ids == ["NRC|Kabul", "NRC|", None]
    content = feed(record_id="content")
    same = [{"org": "NRC", "when": "2026-10-01"}, {"when": "2026-10-01", "org": "NRC"}]
    other = [{"org": "IRC", "when": "2026-10-01"}]
    a, b = (e["record_id"] for e in envelope(content, same))
    (c,) = (e["record_id"] for e in envelope(content, other))
    assert a == b and a != c and len(a) == 32
