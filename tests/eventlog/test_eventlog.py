"""The event log: idempotent, atomic, append-only, readable as of a moment."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.feeds.decide import decide
from ingest.feeds.envelope import envelope_sql
from ingest.feeds.registry import Feed, parse_registry
from ingest.log.eventlog import Counts, Decision, EventLog
from ingest.sessions import connect
from tests.conftest import append, batch, make_feed, two_feed_registry


def events(log: EventLog, **kw) -> list[tuple]:
    con = connect()
    return con.sql(
        f"SELECT record_id, payload, event_type FROM ({log.select_sql(**kw)}) ORDER BY ALL"
    ).fetchall()


def test_empty_log_reads_as_empty_relation_with_envelope_columns(tmp_path: Path):
    rel = EventLog(tmp_path).relation(connect())
    assert rel.fetchall() == []
    assert {"event_id", "feed_id", "occurred_at", "payload", "load_id"} <= set(rel.columns)


def test_append_envelope_and_reconciled_commit(tmp_path: Path, feed: Feed):
    log = EventLog(tmp_path)
    rows = [
        {"id": "A", "when": "2026-11-01T10:00:00+03:00", "text": "first"},
        {"id": "B", "when": "2026-11-01", "replaces": "A"},
        {"id": "C", "when": "2026-11-02", "replaces": "B", "status": "Retracted"},
        {"id": "", "when": "2026-11-02"},
        {"id": "D", "when": "yesterday"},
        {"id": "A", "when": "2026-11-01T10:00:00+03:00", "text": "first"},
    ]
    counts, commit = append(log, feed, rows)
    assert counts == Counts(read=6, appended=3, duplicates=1, quarantined=2)
    assert commit.counts == {"read": 6, "appended": 3, "duplicates": 1, "quarantined": 2}
    con = connect()
    got = con.sql(
        f"SELECT record_id, event_type, supersedes, occurred_at, releasability "
        f"FROM ({log.select_sql()}) ORDER BY record_id"
    ).fetchall()
    assert [(r[0], r[1], r[2]) for r in got] == [
        ("A", "test.reported", None),
        ("B", "test.corrected", "A"),
        ("C", "test.retracted", "B"),
    ]
    assert got[0][3] == datetime(2026, 11, 1, 7, 0, tzinfo=UTC)
    assert {r[4] for r in got} == {"partners"}
    reasons = con.sql(
        f"SELECT reason, message FROM read_parquet('{log.quarantine_files()[0]}') ORDER BY reason"
    ).fetchall()
    assert reasons[0][0] == "missing_record_id"
    assert reasons[1] == ("unreadable_time", "cannot read time 'yesterday' as iso")


def test_a_load_stores_what_the_decision_yields_and_decides_nothing(tmp_path: Path, feed: Feed):
    """The log keeps whatever events and quarantine ingest's decision names, however it
    chose them; the records it names neither way count as duplicates."""
    log = EventLog(tmp_path)
    rows = [{"id": i, "when": "2026-11-01"} for i in "ABCD"]
    with log.begin(feed.id) as load:
        b = batch(rows)
        sql = envelope_sql(feed, b.column_names, "batch", source_sha256="s", load_id=load.load_id)
        odd = Decision(
            events=f"SELECT * FROM ({sql}) WHERE record_id IN ('A', 'B')",
            quarantine="SELECT load_id, source_ref, payload AS raw, 'told to' AS reason, "
            "'by the test' AS message, CAST($recorded_at AS TIMESTAMPTZ) AS quarantined_at "
            f"FROM ({sql}) WHERE record_id = 'C'",
            one_per_id=decide(sql).one_per_id,
        )
        counts = load.store(odd, b, source={"sha256": "s4", "name": "t"})
        commit = load.commit()
    assert counts == Counts(read=4, appended=2, duplicates=1, quarantined=1)
    assert [r[0] for r in events(log)] == ["A", "B"]
    assert commit is not None
    quarantine = [str(log.quarantine_dir / f) for f in commit.quarantine_files]
    reasons = connect().sql(f"SELECT reason, message FROM read_parquet({quarantine})")
    assert reasons.fetchall() == [("told to", "by the test")]


def test_rerun_is_a_noop_and_commits_nothing(tmp_path: Path, feed: Feed):
    log = EventLog(tmp_path)
    rows = [{"id": str(i), "when": "2026-11-01"} for i in range(10)]
    append(log, feed, rows)
    files_before = sorted(p.name for p in tmp_path.rglob("*.parquet"))
    with log.begin(feed.id) as load:
        b = batch(rows)
        sql = envelope_sql(feed, b.column_names, "batch", source_sha256="s", load_id=load.load_id)
        load.sources.clear()
        counts = load.store(decide(sql), b, source={"sha256": "s10", "name": "t"})
        load.sources.clear()  # the same source again: nothing new to remember
        assert load.commit() is None
    assert counts == Counts(read=10, appended=0, duplicates=10, quarantined=0)
    assert sorted(p.name for p in tmp_path.rglob("*.parquet")) == files_before
    assert len(log.commits()) == 1


def test_as_of_load_and_time(tmp_path: Path, feed: Feed):
    log = EventLog(tmp_path)
    t0 = datetime(2026, 11, 1, tzinfo=UTC)
    _, first = append(log, feed, [{"id": "A", "when": "2026-10-30"}], t0)
    append(log, feed, [{"id": "B", "when": "2026-10-31"}], t0 + timedelta(days=2))
    assert [r[0] for r in events(log, as_of_load=first.load_id)] == ["A"]
    assert [r[0] for r in events(log, as_of_time=t0 + timedelta(days=1))] == ["A"]
    assert [r[0] for r in events(log)] == ["A", "B"]


def test_as_of_a_load_s_own_time_holds_the_load(tmp_path: Path, feed: Feed, monkeypatch):
    """Known means recorded by then: at a load's recorded_at, not a microsecond later.
    `peaceops events --as-of` reads the log the same way."""
    from click.testing import CliRunner

    from ingest.commands.events import command

    log = EventLog(tmp_path)
    t0 = datetime(2026, 11, 1, 12, tzinfo=UTC)
    append(log, feed, [{"id": "A", "when": "2026-10-30"}], t0)
    append(log, feed, [{"id": "B", "when": "2026-10-31"}], t0 + timedelta(microseconds=1))
    tick = timedelta(microseconds=1)
    assert [r[0] for r in events(log, as_of_time=t0 - tick)] == []
    assert [r[0] for r in events(log, as_of_time=t0)] == ["A"]
    assert [r[0] for r in events(log, as_of_time=t0 + tick)] == ["A", "B"]
    monkeypatch.setenv("PEACEOPS_DATA_DIR", str(tmp_path))
    query = "SELECT 'known:' || string_agg(record_id, '+' ORDER BY record_id) || ':' FROM events"
    out = CliRunner().invoke(command, ["--as-of", "2026-11-01T12:00:00+0000", query])
    assert out.exit_code == 0, out.output
    assert "known:A:" in out.output


def test_as_of_a_replay_s_own_time_holds_the_replay_not_what_it_retired(tmp_path: Path, feed: Feed):
    log = EventLog(tmp_path)
    t0 = datetime(2026, 11, 1, tzinfo=UTC)
    t1 = t0 + timedelta(days=1)
    _, first = append(log, feed, [{"id": "A", "when": "2026-10-30", "text": "old"}], t0)
    with log.begin(feed.id, t1) as replay:
        replay.retire([first.load_id])
        b = batch([{"id": "A", "when": "2026-10-30", "text": "new"}])
        sql = envelope_sql(feed, b.column_names, "batch", source_sha256="r", load_id=replay.load_id)
        replay.store(decide(sql), b, source={"sha256": "r", "name": "t"})
        replay.commit()

    def texts(moment: datetime) -> list[str]:
        return [json.loads(r[1])["text"] for r in events(log, as_of_time=moment)]

    assert texts(t1 - timedelta(microseconds=1)) == ["old"]
    assert texts(t1) == ["new"]
    assert texts(datetime(2027, 1, 1, tzinfo=UTC)) == ["new"]
    assert [json.loads(r[1])["text"] for r in events(log)] == ["new"]  # known now


def test_debris_of_a_killed_load_is_ignored_then_cleaned(tmp_path: Path, feed: Feed):
    log = EventLog(tmp_path)
    append(log, feed, [{"id": "A", "when": "2026-10-30"}])
    debris = log.dir / f"feed_id={feed.id}" / "20990101T000000.000000Z-test.reports-dead-0.parquet"
    debris.write_bytes(b"half a parquet file")
    assert [r[0] for r in events(log)] == ["A"]
    append(log, feed, [{"id": "B", "when": "2026-10-30"}])
    assert not debris.exists()
    assert [r[0] for r in events(log)] == ["A", "B"]


def test_event_id_is_deterministic_across_logs(tmp_path: Path, feed: Feed):
    rows = [{"id": "A", "when": "2026-10-30", "text": "x"}]
    ids = []
    for sub in ("one", "two"):
        log = EventLog(tmp_path / sub)
        append(log, feed, rows)
        ids.append(connect().sql(f"SELECT event_id FROM ({log.select_sql()})").fetchall())
    assert ids[0] == ids[1]
    assert len(ids[0][0][0]) == 32


def test_the_same_record_in_two_feeds_is_two_events(tmp_path: Path):
    """The feed is part of an event's id: two agencies' `A` are different records."""
    registry = parse_registry(two_feed_registry(tmp_path).read_text(), {}, tmp_path)
    log = EventLog(tmp_path)
    rows = [{"id": "A", "when": "2026-10-30", "text": "x"}]
    for feed in registry.feeds:
        counts, _ = append(log, feed, rows)
        assert counts.appended == 1
    got = connect().sql(f"SELECT feed_id, event_id FROM ({log.select_sql()})").fetchall()
    assert len({event_id for _, event_id in got}) == len(got) == 2


record = st.fixed_dictionaries(
    {
        "id": st.sampled_from(["a", "b", "c", "d", "e", "", None]),
        "when": st.sampled_from(["2026-11-01", "2026-11-02T10:00:00Z", "31/02/2026", None]),
        "text": st.sampled_from(["x", "y", "é", None]),
    }
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(loads=st.lists(st.lists(record, min_size=1, max_size=8), min_size=1, max_size=5))
def test_any_sequence_of_loads_holds_each_event_once(tmp_path_factory, loads):
    root = tmp_path_factory.mktemp("log")
    feed = make_feed(root)
    log = EventLog(root)
    for rows in loads:
        counts, commit = append(log, feed, rows)
        assert counts.reconciles
        assert commit is not None and commit.counts["read"] == len(rows)
    valid = {
        (r["id"], r["text"], r["when"])
        for rows in loads
        for r in rows
        if r["id"] and r["when"] not in (None, "31/02/2026")
    }
    stored = (
        connect()
        .sql(
            f"SELECT record_id, payload->>'text', payload->>'when', event_id FROM ({log.select_sql()})"
        )
        .fetchall()
    )
    assert len({s[3] for s in stored}) == len(stored)
    assert {s[:3] for s in stored} == valid
    total = Counts()
    for c in log.commits():
        total.add(Counts(**c.counts))
    assert total.appended == len(stored)
    assert total.read == sum(len(rows) for rows in loads)
    assert total.reconciles


def test_commit_refuses_counts_that_do_not_reconcile(tmp_path: Path, feed: Feed):
    log = EventLog(tmp_path)
    with log.begin(feed.id) as load:
        load.counts.read += 1
        load.sources.append({"sha256": "x"})
        with pytest.raises(AssertionError, match="does not reconcile"):
            load.commit()
    assert log.commits() == []


def test_compaction_keeps_every_event_and_as_of_reads(tmp_path: Path, feed: Feed):
    log = EventLog(tmp_path)
    t0 = datetime(2026, 11, 1, tzinfo=UTC)
    _, first = append(log, feed, [{"id": "A", "when": "2026-10-30"}], t0)
    append(log, feed, [{"id": "B", "when": "2026-10-31"}], t0 + timedelta(days=1))
    append(log, feed, [{"id": "C", "when": "2026-10-31"}], t0 + timedelta(days=2))
    con = connect()
    before = con.sql(f"SELECT * FROM ({log.select_sql()}) ORDER BY event_id").fetchall()
    commit = log.compact(feed.id)
    assert commit is not None and len(commit.removes) == 3
    assert len(log.live_files(feed.id)) == 1
    assert con.sql(f"SELECT * FROM ({log.select_sql()}) ORDER BY event_id").fetchall() == before
    assert [r[0] for r in events(log, as_of_load=first.load_id)] == ["A"]
    assert [r[0] for r in events(log, as_of_time=t0 + timedelta(hours=30))] == ["A", "B"]
    # Appending after compaction still skips what is committed.
    counts, _ = append(
        log, feed, [{"id": "A", "when": "2026-10-30"}, {"id": "D", "when": "2026-11-01"}]
    )
    assert (counts.appended, counts.duplicates) == (1, 1)
    assert log.compact(feed.id, min_files=5) is None
