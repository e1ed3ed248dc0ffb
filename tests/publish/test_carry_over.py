"""Publishing carries marts unchanged since the previous version over instead of writing
them again, and every audience still gets exactly the rows a fresh publish gives it."""

from __future__ import annotations

import json
import os
import re
from dataclasses import replace
from pathlib import Path

import duckdb

from ingest.gate import GateResult
from ingest.publish.writer import publish
from ingest.releasability import AUDIENCES
from ingest.warehouse.sharing import published_marts
from ingest.warehouse.verification import mart_contents
from tests.gate.factory import make_warehouse

from .published_reader import check_version


def _passed(root: Path) -> GateResult:
    return GateResult(
        passed=True,
        warehouse=root / "warehouse" / "build.duckdb",
        checked_at="2026-11-01T00:00:00+00:00",
    )


def rows(version: Path) -> dict[tuple[str, str, str], list]:
    """Every published file's rows, sorted: (audience, format, mart) -> rows."""
    out: dict[tuple[str, str, str], list] = {}
    con = duckdb.connect()
    for audience in AUDIENCES:
        folder = version / audience
        db = duckdb.connect(str(folder / "unified.duckdb"), read_only=True)
        for (table,) in db.execute("SHOW TABLES").fetchall():
            out[audience, "duckdb", table] = sorted(
                db.execute(f"SELECT * FROM {table}").fetchall(), key=repr
            )
        db.close()
        for path in (folder / "parquet").glob("*.parquet"):
            found = con.execute(f"SELECT * FROM '{path}'").fetchall()
            out[audience, "parquet", path.stem] = sorted(found, key=repr)
        for path in (folder / "csv").glob("*.csv"):
            out[audience, "csv", path.stem] = path.read_text().splitlines()[:2] + sorted(
                path.read_text().splitlines()[2:]
            )
    return out


def comments(folder: Path) -> set[tuple[str, str | None, str | None]]:
    """(table, column or None, comment) of every table and column of an audience's database."""
    db = duckdb.connect(str(folder / "unified.duckdb"), read_only=True)
    try:
        found = db.execute(
            "SELECT table_name, NULL, comment FROM duckdb_tables() "
            "UNION ALL SELECT table_name, column_name, comment FROM duckdb_columns() "
            "WHERE schema_name = 'main'"
        ).fetchall()
    finally:
        db.close()
    assert any(comment for *_, comment in found)
    return set(found)


def change_incidents(warehouse: Path) -> None:
    """A new build in which only fct_incidents changed: one incident reclassified
    restricted, another's fatalities corrected."""
    con = duckdb.connect(str(warehouse))
    first, second = con.execute(
        "SELECT min(incident_id) FROM marts.fct_incidents WHERE releasability = 'public' "
        "UNION ALL SELECT min(incident_id) FROM marts.fct_incidents WHERE releasability = 'mission'"
    ).fetchall()
    con.execute(
        "UPDATE marts.fct_incidents SET releasability = 'restricted' WHERE incident_id = ?", first
    )
    con.execute("UPDATE marts.fct_incidents SET fatalities = 99 WHERE incident_id = ?", second)
    con.close()


def test_unchanged_marts_are_carried_over_and_every_row_is_a_fresh_publishs(
    tmp_path: Path,
) -> None:
    root, fresh = tmp_path / "carried", tmp_path / "fresh"
    make_warehouse(root / "warehouse" / "build.duckdb", rows=40)
    first = publish(root, _passed(root))
    again = publish(root, _passed(root))
    # nothing changed: every file of the second version is the first's, but for the
    # dictionary, which names its version
    listed = json.loads((again / "manifest.json").read_text())["files"]
    for rel in listed:
        if not rel.endswith("datapackage.json"):
            assert os.path.samefile(first / rel, again / rel), rel
    assert rows(again) == rows(first)
    check_version(again)

    change_incidents(root / "warehouse" / "build.duckdb")
    third = publish(root, _passed(root))
    check_version(third)
    # a fresh publish of the same warehouse, with no version before it
    (fresh / "warehouse").mkdir(parents=True)
    os.link(root / "warehouse" / "build.duckdb", fresh / "warehouse" / "build.duckdb")
    reference = publish(fresh, _passed(fresh))
    assert rows(third) == rows(reference)
    manifest = json.loads((third / "manifest.json").read_text())
    # rows changed or left in every audience: no table of fct_incidents is appended to
    assert manifest["appended"] == {}
    assert (
        manifest["row_counts"]
        == json.loads((reference / "manifest.json").read_text())["row_counts"]
    )
    assert manifest["row_counts"]["public"]["fct_incidents"] == (
        json.loads((again / "manifest.json").read_text())["row_counts"]["public"]["fct_incidents"]
        - 1
    )
    for audience in AUDIENCES:
        changed = f"{audience}/parquet/fct_incidents.parquet"
        assert not os.path.samefile(again / changed, third / changed)
        for spec in published_marts():
            rel = f"{audience}/parquet/{spec.name}.parquet"
            if spec.name != "fct_incidents" and (third / rel).exists():
                assert os.path.samefile(again / rel, third / rel), rel
        # the database is a new file, with the new rows (compared above), and the comments
        # of a fresh one: those of the tables carried over in it, and of the one written
        assert not os.path.samefile(
            again / audience / "unified.duckdb", third / audience / "unified.duckdb"
        )
        assert comments(third / audience) == comments(reference / audience)
    # no file carried over was written to: the versions before are as they were published,
    # table and column comments included
    check_version(first)
    check_version(again)
    db = duckdb.connect(str(again / "public" / "unified.duckdb"), read_only=True)
    commented = db.execute(
        "SELECT count(*) FROM duckdb_columns() WHERE comment IS NOT NULL AND comment <> ''"
    ).fetchone()[0]
    db.close()
    assert commented > 0


def test_held_back_feed_changes_what_is_carried(tmp_path: Path) -> None:
    """The same warehouse published with a feed held back is not the version before."""
    make_warehouse(tmp_path / "warehouse" / "build.duckdb", rows=16)
    first = publish(tmp_path, _passed(tmp_path))
    con = duckdb.connect(str(tmp_path / "warehouse" / "build.duckdb"), read_only=True)
    (feed,) = con.execute("SELECT min(feed_id) FROM marts.normalisation_issues").fetchone()
    con.close()
    gate = _passed(tmp_path)
    gate.held_back = {feed: "cannot be staged"}
    second = publish(tmp_path, gate)
    check_version(second)
    counts = json.loads((second / "manifest.json").read_text())["row_counts"]
    before = json.loads((first / "manifest.json").read_text())["row_counts"]
    assert counts["mission"]["normalisation_issues"] < before["mission"]["normalisation_issues"]
    rel = "mission/parquet/normalisation_issues.parquet"
    assert not os.path.samefile(first / rel, second / rel)


def holds(data: bytes, key: str) -> bool:
    """Whether the key is in the bytes as itself, not as the start of a longer key
    (fct_incidents:1 of fct_incidents:10)."""
    return re.search(re.escape(key.encode()) + rb"(?!\d)", data) is not None


def test_rows_that_left_an_audience_do_not_linger_in_its_database(tmp_path: Path) -> None:
    """A database started from the previous version's keeps no block of a dropped table
    unwritten: rows that left an audience (fewer, or reclassified) are not in its bytes."""
    warehouse = tmp_path / "warehouse" / "build.duckdb"
    make_warehouse(warehouse, rows=400)
    first = publish(tmp_path, _passed(tmp_path))
    con = duckdb.connect(str(warehouse))
    gone = [
        r[0]
        for r in con.execute(
            "SELECT incident_id FROM marts.fct_incidents WHERE releasability = 'public'"
        ).fetchall()
    ]
    con.execute("DELETE FROM marts.fct_incidents WHERE releasability <> 'mission'")
    con.close()
    second = publish(tmp_path, _passed(tmp_path))
    check_version(second)
    assert rows(second)["public", "duckdb", "fct_incidents"] == []
    before = (first / "public" / "unified.duckdb").read_bytes()
    after = (second / "public" / "unified.duckdb").read_bytes()
    assert any(holds(before, i) for i in gone)  # else the check below proves nothing
    assert not any(holds(after, i) for i in gone)
    for audience in AUDIENCES:
        # the unchanged marts' files are still carried over
        rel = f"{audience}/parquet/fct_patrols.parquet"
        assert os.path.samefile(first / rel, second / rel)


def test_a_file_gone_from_the_previous_version_is_written_again(tmp_path: Path) -> None:
    make_warehouse(tmp_path / "warehouse" / "build.duckdb", rows=8)
    first = publish(tmp_path, _passed(tmp_path))
    (first / "public" / "parquet" / "fct_patrols.parquet").unlink()
    (first / "partners" / "unified.duckdb").unlink()
    second = publish(tmp_path, _passed(tmp_path))
    check_version(second)
    assert (
        rows(second)["public", "parquet", "fct_patrols"]
        == rows(second)["public", "duckdb", "fct_patrols"]
    )
    assert os.path.samefile(
        first / "mission" / "unified.duckdb", second / "mission" / "unified.duckdb"
    )


def test_publish_takes_the_gates_sums_instead_of_reading_the_marts_again(tmp_path: Path) -> None:
    root = tmp_path / "data"
    warehouse = root / "warehouse" / "build.duckdb"
    make_warehouse(warehouse, rows=40)
    con = duckdb.connect(str(warehouse), read_only=True)
    sums = {m: [c.rows, c.digest] for m, c in mart_contents(con).items()}
    con.close()
    first = publish(root, replace(_passed(root), contents=sums))
    # the sums are the ones publish reads itself: without them, everything carries over
    again = publish(root, _passed(root))
    listed = json.loads((again / "manifest.json").read_text())["files"]
    for rel in listed:
        if not rel.endswith("datapackage.json"):
            assert os.path.samefile(first / rel, again / rel), rel
    # and they are taken as they are: sums of the build before a change carry the
    # changed mart over (publish takes only sums of the build the gate checked)
    change_incidents(warehouse)
    stale = publish(root, replace(_passed(root), contents=sums))
    incidents = "mission/parquet/fct_incidents.parquet"
    assert os.path.samefile(again / incidents, stale / incidents)
    read = publish(root, _passed(root))
    assert not os.path.samefile(stale / incidents, read / incidents)


def test_a_mart_that_only_gained_rows_is_appended_to(tmp_path: Path) -> None:
    """A new mission-level incident: mission's table gains its row, partners' and public's
    keep theirs as they are; every audience has a fresh publish's rows."""
    root, fresh = tmp_path / "appended", tmp_path / "fresh"
    warehouse = root / "warehouse" / "build.duckdb"
    make_warehouse(warehouse, rows=40)
    first = publish(root, _passed(root))
    con = duckdb.connect(str(warehouse))
    con.execute(
        "INSERT INTO marts.fct_incidents SELECT * REPLACE ('fct_incidents:new' AS incident_id) "
        "FROM marts.fct_incidents WHERE releasability = 'mission' LIMIT 1"
    )
    con.close()
    second = publish(root, _passed(root))
    check_version(second)
    manifest = json.loads((second / "manifest.json").read_text())
    assert manifest["appended"] == {aud: ["fct_incidents"] for aud in AUDIENCES}
    before = json.loads((first / "manifest.json").read_text())["row_counts"]
    for audience in AUDIENCES:
        gained = 1 if audience == "mission" else 0
        counts = manifest["row_counts"][audience]
        assert counts["fct_incidents"] == before[audience]["fct_incidents"] + gained
    (fresh / "warehouse").mkdir(parents=True)
    os.link(warehouse, fresh / "warehouse" / "build.duckdb")
    assert rows(second) == rows(publish(fresh, _passed(fresh)))
