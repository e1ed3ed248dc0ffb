"""The ingest benchmark on a small file: it must still run the real path end to end, so
`make bench` does not break unnoticed between the stops that run it."""

from __future__ import annotations

from pathlib import Path

from bench import ingest
from ingest.log.eventlog import EventLog
from ingest.sessions import connect


def test_ingest_bench_row_has_both_sides_and_the_cold_import() -> None:
    (row,) = ingest.run(3000)
    assert row.case.startswith("0.003M rows CSV")
    assert row.seconds > 0 and row.floor_seconds and row.floor_seconds > 0
    assert float(row.extra["cold_imports_s"]) > 0
    assert float(row.extra["envelope_floor_s"]) > 0
    assert row.extra["rows_per_s"].replace(",", "").isdigit()


def test_ingest_once_lands_and_logs_every_row(tmp_path: Path) -> None:
    csv = tmp_path / "reports.csv"
    ingest.make_csv(csv, 500)
    root = tmp_path / "data"
    assert ingest.ingest_once(csv, root) == 500
    (commit,) = EventLog(root).commits("bench.reports")
    assert commit.counts == {"read": 500, "appended": 500, "duplicates": 0, "quarantined": 0}
    assert commit.sources[0]["name"] == "reports.csv"
    assert (root / "landing" / "bench.reports" / commit.sources[0]["sha256"]).exists()


def test_envelope_floor_computes_the_events_ingest_appends(tmp_path: Path) -> None:
    csv = tmp_path / "reports.csv"
    ingest.make_csv(csv, 300)
    root = tmp_path / "data"
    ingest.ingest_once(csv, root)
    ingest.envelope_floor(csv, tmp_path / "envelope.parquet")
    columns = "event_id, event_type, record_id, supersedes, occurred_at, releasability, payload"
    con = connect()
    floor = con.sql(
        f"SELECT {columns} FROM read_parquet('{tmp_path / 'envelope.parquet'}')"
    ).fetchall()
    logged = con.sql(f"SELECT {columns} FROM ({EventLog(root).select_sql()})")
    assert len(floor) == 300
    assert sorted(floor) == sorted(logged.fetchall())
