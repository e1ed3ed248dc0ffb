"""Every DuckDB session the hub opens leaves extensions alone: none is installed or
loaded on first use (DuckDB's default would fetch httpfs for an https:// path)."""

from __future__ import annotations

import re
from pathlib import Path

from ingest.sessions import connect, cursor

REPO = Path(__file__).parents[2]
SESSION_FACTORIES = {"src/ingest/sessions.py", "bench/common.py"}


def test_hub_sessions_neither_install_nor_load_extensions(tmp_path: Path):
    for con in (connect(), connect(tmp_path / "x.duckdb")):
        settings = dict(
            con.execute(
                "SELECT name, value FROM duckdb_settings() WHERE name IN "
                "('autoinstall_known_extensions', 'autoload_known_extensions')"
            ).fetchall()
        )
        assert settings == {
            "autoinstall_known_extensions": "false",
            "autoload_known_extensions": "false",
        }
        con.close()


def test_a_cursor_is_a_session_like_the_one_it_comes_from():
    con = connect()
    con.execute("SET TimeZone = 'America/New_York'")
    stream = cursor(con)
    found = stream.execute(
        "SELECT current_setting('TimeZone'), CAST(DATE '2026-01-01' AS TIMESTAMPTZ)::VARCHAR"
    ).fetchone()
    assert found == ("UTC", "2026-01-01 00:00:00+00")
    stream.close()
    con.close()


def test_no_session_is_opened_around_the_factories():
    opened = re.compile(r"duckdb\.connect\(|\.cursor\(\)")
    stray = [
        str(path.relative_to(REPO))
        for folder in ("src", "bench")
        for path in (REPO / folder).rglob("*.py")
        if opened.search(path.read_text()) and str(path.relative_to(REPO)) not in SESSION_FACTORIES
    ]
    assert stray == []
