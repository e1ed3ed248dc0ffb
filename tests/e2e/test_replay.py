"""Replay after a mapping fix: a file set aside by a wrong mapping comes back through
`peaceops replay` once feeds.yaml is fixed, as one new load that retires the old ones;
the log keeps both, a build as of before the replay shows the old view."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from ingest.cli import main
from ingest.feeds.pipeline import ingest_feed
from ingest.feeds.registry import parse_registry
from ingest.feeds.replay import replay_feed
from ingest.log.eventlog import EventLog
from ingest.sessions import connect
from ingest.warehouse.runner import build, warehouse_path

REGISTRY = """
version: 2
country_pack: {pack}
agencies: [{{id: ngo, name: An NGO, kind: NGO}}]
feeds:
  - id: ngo.reports
    agency: ngo
    name: NGO incident reports
    kind: file_drop
    format: csv
    location: inbox
    schedule: "@daily"
    releasability: public
    schema_version: 1
    entity: incident
    mapping:
      record_id: [id]
      occurred_at: {{fields: [{time}], format: dayfirst, patterns: ["%d/%m/%Y"]}}
      incident_type: type
      admin2: district
"""
CSV = "id,date,type,district\nA1,02/10/2026,riot,CR0101\nA2,03/10/2026,looting,CR0102\n"
PACK = Path(__file__).resolve().parents[2] / "packs" / "carana"
BEFORE = datetime(2026, 10, 10, tzinfo=UTC)
AFTER = BEFORE + timedelta(days=1)


def registry(root: Path, time_column: str):
    return parse_registry(REGISTRY.format(pack=PACK, time=time_column), {}, root)


def live_events(root: Path) -> list[tuple]:
    sql = EventLog(root).select_sql("ngo.reports")
    return connect().sql(f"SELECT record_id, occurred_at FROM ({sql}) ORDER BY 1").fetchall()


@pytest.fixture
def replayed(tmp_path: Path) -> Path:
    (tmp_path / "inbox").mkdir()
    (tmp_path / "inbox" / "a.csv").write_text(CSV)
    wrong = registry(tmp_path, "when")  # the file's column is `date`
    first = ingest_feed(wrong.feed("ngo.reports"), tmp_path, now=BEFORE)
    assert first.counts.quarantined == 1 and first.counts.appended == 0  # set aside
    fixed = registry(tmp_path, "date")
    again = ingest_feed(fixed.feed("ngo.reports"), tmp_path, now=BEFORE)
    assert again.load_id is None  # its bytes are landed: nothing new to ingest
    result = replay_feed(fixed.feed("ngo.reports"), tmp_path, now=AFTER)
    assert result.ok and result.counts.appended == 2 and result.counts.reconciles
    return tmp_path


def test_a_replay_re_derives_and_retires_without_deleting(replayed: Path) -> None:
    log = EventLog(replayed)
    loads = log.commits("ngo.reports")
    assert [c.kind for c in loads] == ["load", "replay"]
    assert loads[1].retires == [loads[0].load_id]
    assert [r for r, _ in live_events(replayed)] == ["A1", "A2"]
    # the old load's quarantine row is no longer live, but still in the log
    assert log.quarantine_files("ngo.reports", retired=False) == []
    assert len(log.quarantine_files("ngo.reports")) == 1
    # as known before the replay: the old derivation (nothing to see)
    sql = log.select_sql("ngo.reports", as_of_time=BEFORE + timedelta(hours=1))
    assert connect().sql(f"SELECT count(*) FROM ({sql})").fetchall() == [(0,)]


def test_a_second_replay_retires_the_first_and_adds_nothing_new(replayed: Path) -> None:
    fixed = registry(replayed, "date")
    again = replay_feed(fixed.feed("ngo.reports"), replayed, now=AFTER + timedelta(days=1))
    assert again.counts.appended == 2  # same events, re-derived: the first replay retires
    assert [r for r, _ in live_events(replayed)] == ["A1", "A2"]
    loads = EventLog(replayed).commits("ngo.reports")
    assert loads[2].retires == [loads[1].load_id]


@pytest.mark.slow
def test_the_warehouse_follows_the_replay_and_keeps_the_old_view(replayed: Path) -> None:
    fixed = registry(replayed, "date")
    past = build(replayed, registry=fixed, as_of=BEFORE + timedelta(hours=1))
    assert past.ok, past.failures
    db = warehouse_path(replayed)

    def incidents() -> int:
        con = duckdb.connect(str(db), read_only=True)
        try:
            return con.execute("SELECT count(*) FROM marts.fct_incidents").fetchone()[0]
        finally:
            con.close()

    assert incidents() == 0
    now = build(replayed, registry=fixed)
    assert now.ok, now.failures
    # the previous (as-of) build derived from another moment: rebuilt in full
    assert now.full_refresh_reason
    assert incidents() == 2
    steady = build(replayed, registry=fixed)
    assert steady.full_refresh_reason is None and incidents() == 2


def test_replay_command(replayed: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    feeds = replayed / "feeds.yaml"
    feeds.write_text(REGISTRY.format(pack=PACK, time="date"))
    monkeypatch.setenv("PEACEOPS_DATA_DIR", str(replayed))
    result = CliRunner().invoke(
        main, ["replay", "--feed", "ngo.reports", "--feeds-file", str(feeds)]
    )
    assert result.exit_code == 0, result.output
    assert "ngo.reports: read 2, appended 2, duplicates 0, quarantined 0" in result.output
