"""Ingest's decision over a batch (ingest.feeds.decide): which records become events,
which are quarantined, which are duplicates; run as the log runs it, without a log."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.feeds.decide import decide
from ingest.feeds.envelope import envelope_sql
from ingest.log.eventlog import COMMITTED_IDS, WRITTEN
from ingest.sessions import connect
from tests.conftest import batch, make_feed

FEED = make_feed(Path("/tmp"))
PARAMS = {"recorded_at": datetime(2026, 11, 2, tzinfo=UTC)}
CON = connect()

record = st.fixed_dictionaries(
    {
        "id": st.sampled_from(["a", "b", "c", "d", "", None]),
        "when": st.sampled_from(["2026-11-01", "31/02/2026", None]),
        "text": st.sampled_from(["x", "y"]),
    }
)


def envelope(rows: list[dict]) -> tuple[str, list[tuple[str, str, str | None]]]:
    """The envelope SQL of `rows` (registered as `batch`) and its (event id, source
    ref, quarantine reason) rows."""
    table = batch(rows)
    CON.register("batch", table)
    sql = envelope_sql(FEED, table.column_names, "batch", source_sha256="s", load_id="l")
    query = f"SELECT event_id, source_ref, quarantine_reason FROM ({sql})"
    return sql, CON.execute(query, PARAMS).fetchall()


@settings(max_examples=80, deadline=None)
@given(
    rows=st.lists(record, min_size=1, max_size=12),
    earlier=st.lists(record, max_size=6),
)
def test_events_are_the_new_distinct_clean_ids_and_the_rest_reconciles(rows, earlier):
    """Whatever a batch repeats, quarantines or shares with the log: each new clean id
    becomes one event, every bad record is quarantined, and the rest are duplicates."""
    committed = {e for e, _, reason in envelope(earlier)[1] if reason is None}
    sql, env = envelope(rows)
    CON.execute(
        f"CREATE OR REPLACE TEMP TABLE {COMMITTED_IDS} AS "
        "SELECT unnest($ids::VARCHAR[]) AS event_id",
        {"ids": sorted(committed)},
    )

    decision = decide(sql)
    # as the log runs it: the events, then one of each id should one repeat
    first_of_each = f"WITH {WRITTEN} AS ({decision.events}) {decision.one_per_id}"
    appended = CON.execute(f"SELECT event_id, source_ref FROM ({first_of_each})", PARAMS).fetchall()
    quarantined = CON.execute(
        f"SELECT source_ref, reason FROM ({decision.quarantine})", PARAMS
    ).fetchall()

    clean = [(e, ref) for e, ref, reason in env if reason is None]
    first = {e: min(ref for i, ref in clean if i == e) for e, _ in clean if e not in committed}
    assert dict(appended) == first  # each new id once: its first record by source ref
    assert len(appended) == len(first)
    assert sorted(quarantined) == sorted((ref, r) for _, ref, r in env if r is not None)
    repeats = Counter(e for e, _ in clean)
    duplicates = sum(n if e in committed else n - 1 for e, n in repeats.items())
    assert len(rows) == len(appended) + duplicates + len(quarantined)
