"""The connection recipes of docs/analysts/README.md work as written."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

README = Path(__file__).resolve().parents[2] / "docs" / "analysts" / "README.md"
RELATIVE_URI = "duckdb:///data/published/current/mission/unified.duckdb"
ABSOLUTE_URI = "duckdb:////srv/peaceops/data/published/current/mission/unified.duckdb"


@pytest.fixture
def database(tmp_path: Path) -> Path:
    path = tmp_path / "unified.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE fct_incidents (incident_id VARCHAR, fatalities INTEGER)")
    con.execute("INSERT INTO fct_incidents VALUES ('a', 2), ('b', 3)")
    con.close()
    return path


def test_readme_shows_the_sqlalchemy_uris_with_read_only() -> None:
    text = README.read_text(encoding="utf-8")
    assert RELATIVE_URI in text
    assert ABSOLUTE_URI in text
    assert 'connect_args={"read_only": True}' in text


@pytest.mark.parametrize("form", ["relative", "absolute"])
def test_sqlalchemy_uri_with_duckdb_engine_read_only(
    database: Path, form: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`duckdb:///<relative path>` and `duckdb:////<absolute path>`, as in the README."""
    sqlalchemy = pytest.importorskip("sqlalchemy")
    pytest.importorskip("duckdb_engine")
    if form == "relative":
        # The README's relative URI is data/published/current/mission/unified.duckdb from the
        # repository root; here the same layout under a temporary directory.
        base = database.parent / "repo"
        target = base / "data" / "published" / "current" / "mission"
        target.mkdir(parents=True)
        database.rename(target / "unified.duckdb")
        monkeypatch.chdir(base)
        uri = RELATIVE_URI
    else:
        uri = "duckdb:///" + str(database)  # an absolute path: four slashes in all
        assert uri.startswith("duckdb:////")
    engine = sqlalchemy.create_engine(uri, connect_args={"read_only": True})
    try:
        with engine.connect() as conn:
            total = conn.execute(sqlalchemy.text("SELECT sum(fatalities) FROM fct_incidents"))
            assert total.scalar_one() == 5
            with pytest.raises(sqlalchemy.exc.DBAPIError, match="read-only"):
                conn.execute(sqlalchemy.text("DELETE FROM fct_incidents"))
    finally:
        engine.dispose()


def test_pandas_recipe(database: Path) -> None:
    pytest.importorskip("pandas")
    con = duckdb.connect(str(database), read_only=True)
    try:
        df = con.sql("SELECT * FROM fct_incidents ORDER BY incident_id").df()
    finally:
        con.close()
    assert list(df["incident_id"]) == ["a", "b"]
