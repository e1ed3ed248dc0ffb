"""`peaceops events` cannot damage the log or the warehouse, nor read past the log:
each attack fails with a one-line message and leaves every file as it was."""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from ingest.cli import main
from ingest.commands.events import log_session
from ingest.feeds.registry import Feed
from ingest.log.eventlog import EventLog
from tests.conftest import append


def fingerprint(root: Path) -> dict[str, str]:
    """Every file under the data directory and its sha256."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def root(tmp_path: Path, feed: Feed, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A log with events and quarantine, and a warehouse with one mart."""
    data = tmp_path / "data"
    append(EventLog(data), feed, [{"id": "A", "when": "2026-10-30"}, {"when": "2026-10-31"}])
    (data / "warehouse").mkdir()
    wh = duckdb.connect(str(data / "warehouse" / "build.duckdb"))
    wh.execute("CREATE SCHEMA marts; CREATE TABLE marts.fct_patrols AS SELECT 1 AS patrol_id")
    wh.close()
    monkeypatch.setenv("PEACEOPS_DATA_DIR", str(data))
    return data


def events(sql: str):
    return CliRunner().invoke(main, ["events", sql])


def test_queries_over_both_views_still_work(root: Path):
    result = events(
        "SELECT (SELECT count(*) FROM events) || '/' || (SELECT count(*) FROM quarantine) AS n"
    )
    assert result.exit_code == 0, result.output
    assert "1/1" in result.output


def attacks(root: Path, outside: Path) -> list[str]:
    committed = next(EventLog(root).dir.rglob("*.parquet"))
    warehouse = root / "warehouse" / "build.duckdb"
    return [
        f"COPY (SELECT * FROM events LIMIT 1) TO '{committed}'",
        f"COPY (SELECT * FROM events LIMIT 1) TO '{committed}' (USE_TMP_FILE false)",
        f"ATTACH '{warehouse}' AS w; DROP TABLE w.marts.fct_patrols",
        f"SELECT 1; COPY (SELECT * FROM events) TO '{outside}'",
        "SELECT * FROM read_csv('/etc/hostname')",
        f"SELECT * FROM read_parquet('{warehouse.parent}/*')",
        "SELECT * FROM read_csv('https://feeds.example.org/x.csv')",
        "SELECT * FROM glob('/etc/*')",
        "SET enable_external_access = true",
        "INSTALL httpfs",
        "LOAD httpfs",
        f"EXPLAIN ANALYZE COPY (SELECT 1) TO '{outside}'",
        "CREATE TABLE events2 AS SELECT * FROM events",
    ]


def test_every_attack_fails_in_one_line_and_changes_nothing(root: Path, tmp_path: Path):
    outside = tmp_path / "outside.csv"
    before = fingerprint(root)
    for sql in attacks(root, outside):
        result = events(sql)
        assert result.exit_code == 1, sql
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("Error: "), (sql, result.output)
        assert fingerprint(root) == before, sql
        assert not outside.exists(), sql
    con = duckdb.connect(str(root / "warehouse" / "build.duckdb"), read_only=True)
    assert con.execute("SELECT count(*) FROM marts.fct_patrols").fetchone() == (1,)


def test_the_session_itself_reads_only_the_log(root: Path, tmp_path: Path):
    """The second lock alone, without the query filter in front of it."""
    with log_session(EventLog(root)) as con:
        assert con.execute("SELECT count(*) FROM events").fetchone() == (1,)
        for sql in (
            "SELECT * FROM read_text('/etc/hostname')",
            f"ATTACH '{root / 'warehouse' / 'build.duckdb'}' AS w",
            f"COPY (SELECT 1) TO '{tmp_path / 'x.csv'}'",
            "SELECT * FROM read_csv('https://feeds.example.org/x.csv')",
        ):
            with pytest.raises(duckdb.PermissionException):
                con.execute(sql)
        with pytest.raises(duckdb.InvalidInputException, match="locked"):
            con.execute("SET enable_external_access = true")
