"""Publishing: whole versions per audience, an atomic `current`, nothing past the gate."""

from __future__ import annotations

import csv
import json
import multiprocessing as mp
import os
import time
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ingest.gate import GateResult, run_gate
from ingest.publish.reader import current_version, versions
from ingest.publish.writer import AUDIENCES, GateNotPassed, prune, publish
from ingest.releasability import RELEASABILITY
from ingest.settings import PROJECT_DIR
from ingest.warehouse.sharing import MartSpec, published_marts
from tests.gate.factory import make_warehouse
from tests.publish.published_reader import check_version, read_current


def _wh(root: Path) -> Path:
    return root / "warehouse" / "build.duckdb"


def _passed(root: Path) -> GateResult:
    """A passed gate without running GX (publishing does not look at more than this)."""
    return GateResult(passed=True, warehouse=_wh(root), checked_at="2026-11-01T00:00:00+00:00")


def test_good_run_publishes(tmp_path: Path) -> None:
    make_warehouse(
        _wh(tmp_path),
        overrides={
            "fct_aid_deliveries": {
                "organisation_name": lambda i: ['=HYPERLINK("x")', "+1", "-2", "@SUM", "ok"][i % 5]
            }
        },
    )
    gate = run_gate(tmp_path, data_docs=False)
    assert gate.passed
    version = publish(tmp_path, gate)
    assert current_version(tmp_path) == version.resolve()
    assert os.readlink(tmp_path / "published" / "current") == version.name
    check_version(version)
    manifest = json.loads((version / "manifest.json").read_text())
    assert manifest["version"] == version.name
    assert manifest["gate"]["passed"] is True
    assert manifest["warehouse_row_counts"]["fct_incidents"] == 8
    assert set(manifest["row_counts"]) == set(AUDIENCES)
    # releasability cycles public, partners, mission, restricted over 8 rows
    assert manifest["row_counts"]["public"]["fct_incidents"] == 2
    assert manifest["row_counts"]["partners"]["fct_incidents"] == 4
    assert manifest["row_counts"]["mission"]["fct_incidents"] == 6
    for audience in AUDIENCES:
        con = duckdb.connect(str(version / audience / "unified.duckdb"), read_only=True)
        assert (
            con.execute("SELECT count(*) FROM fct_incidents").fetchone()[0]
            == (manifest["row_counts"][audience]["fct_incidents"])
        )
        con.close()
        assert (version / audience / "parquet" / "fct_incidents.parquet").exists()
    with open(version / "partners" / "csv" / "fct_aid_deliveries.csv", newline="") as fh:
        rows = list(csv.reader(fh))
    header, tags, body = rows[0], rows[1], rows[2:]
    assert tags[header.index("cluster_code")] == "#sector+code"
    assert all(t.startswith("#") for t in tags)
    names = [r[header.index("organisation_name")] for r in body]
    assert all(not n or n[0] not in "=+-@" for n in names), names
    assert '\'=HYPERLINK("x")' in names or "'+1" in names
    gaps = version / "public" / "csv" / "coordination_coverage_gaps.csv"
    assert gaps.read_text().splitlines()[1].startswith("#adm+code,#adm+level,#adm2+code")


def test_the_analysts_guide_names_every_field_of_the_manifest(tmp_path: Path) -> None:
    make_warehouse(_wh(tmp_path))
    manifest = json.loads((publish(tmp_path, _passed(tmp_path)) / "manifest.json").read_text())
    guide = (PROJECT_DIR / "docs" / "analysts" / "README.md").read_text()
    assert [field for field in manifest if f"`{field}`" not in guide] == []


def test_failed_gate_publishes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from ingest.cli import main

    make_warehouse(_wh(tmp_path))
    first = publish(tmp_path, _passed(tmp_path))
    make_warehouse(_wh(tmp_path), bad=("unknown_code", "outside_country", "future_time"))
    monkeypatch.setenv("PEACEOPS_DATA_DIR", str(tmp_path))
    out = CliRunner().invoke(main, ["publish"])
    assert out.exit_code == 1, out.output
    assert "nothing published" in out.output and "incident_sub_type" in out.output
    assert current_version(tmp_path) == first.resolve()
    assert versions(tmp_path) == [first]
    with pytest.raises(GateNotPassed, match="gate failed"):
        publish(tmp_path, GateResult(passed=False))
    assert current_version(tmp_path) == first.resolve()


def test_published_versions_stay_readable_by_their_audiences(tmp_path: Path) -> None:
    """Unlike the private folders beside it (tests/eventlog/test_file_modes.py)."""
    old = os.umask(0o022)
    try:
        make_warehouse(_wh(tmp_path))
        version = publish(tmp_path, _passed(tmp_path))
    finally:
        os.umask(old)
    for path in [version, *version.rglob("*")]:
        expected = 0o755 if path.is_dir() else 0o644
        assert path.stat().st_mode & 0o777 == expected, path


def test_prune_keeps_the_newest(tmp_path: Path) -> None:
    make_warehouse(_wh(tmp_path))
    made = [publish(tmp_path, _passed(tmp_path), keep=10) for _ in range(4)]
    assert versions(tmp_path) == made
    removed = prune(tmp_path, 2)
    assert removed == made[:2] and versions(tmp_path) == made[2:]
    publish(tmp_path, _passed(tmp_path), keep=2)
    assert len(versions(tmp_path)) == 2
    assert current_version(tmp_path) == versions(tmp_path)[-1].resolve()


# The levels each audience below mission may see, written out rather than read from
# ingest.publish.writer: the test must not share the rule it checks.
SEES = {"public": {"public"}, "partners": {"public", "partners"}}

SECRET = st.text(alphabet="abcdefghijklmnopqrstuvwxyz ", min_size=6, max_size=20).map(
    lambda s: f"PII-{s}-PII"
)


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    levels=st.lists(st.sampled_from(RELEASABILITY), min_size=1, max_size=8),
    secret=SECRET,
)
@example(levels=list(RELEASABILITY), secret="PII-every-level-PII")  # mission rows, always
def test_nothing_restricted_mission_or_free_text_reaches_partners_or_public(
    tmp_path_factory: pytest.TempPathFactory, levels: list[str], secret: str
) -> None:
    root = tmp_path_factory.mktemp("prop")
    level = lambda i: levels[i % len(levels)]  # noqa: E731
    free_text = lambda i: f"{secret} row {i}"  # noqa: E731
    overrides = {
        spec.name: {"releasability": level} for spec in published_marts() if spec.has_releasability
    }
    overrides["normalisation_issues"]["value"] = free_text
    overrides["fct_patrols"]["patrol_unit"] = free_text
    make_warehouse(
        _wh(root),
        rows=len(levels),
        overrides=overrides,
        extra_columns={"fct_incidents": {"notes": secret + " {i}"}},
    )
    version = publish(root, _passed(root))
    for audience, allowed in SEES.items():
        con = duckdb.connect(str(version / audience / "unified.duckdb"), read_only=True)
        tables = [r[0] for r in con.execute("SHOW TABLES").fetchall()]
        for table in tables:
            cols = [r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()]
            if "releasability" in cols:
                seen = {
                    r[0]
                    for r in con.execute(f"SELECT DISTINCT releasability FROM {table}").fetchall()
                }
                assert seen <= allowed, (audience, table, seen)
            text = con.execute(
                f"SELECT string_agg(CAST(COLUMNS(*) AS VARCHAR), '|') FROM {table}"
            ).fetchone()
            assert not any(secret in (t or "") for t in text), (audience, table)
        for parquet in (version / audience / "parquet").glob("*.parquet"):
            rows = con.execute(
                f"SELECT CAST(COLUMNS(*) AS VARCHAR) FROM read_parquet('{parquet}')"
            ).fetchall()
            assert not any(secret in (v or "") for row in rows for v in row), parquet
        con.close()
        for path in (version / audience / "csv").glob("*.csv"):
            assert secret not in path.read_text()
            assert "restricted" not in path.read_text()
    # the mission gets the free text, and still no restricted row
    con = duckdb.connect(str(version / "mission" / "unified.duckdb"), read_only=True)
    assert (
        con.execute(
            "SELECT count(*) FROM fct_incidents WHERE releasability = 'restricted'"
        ).fetchone()[0]
        == 0
    )
    if any(v != "restricted" for v in levels):
        assert (
            con.execute("SELECT count(*) FROM fct_incidents WHERE notes IS NOT NULL").fetchone()[0]
            > 0
        )
    con.close()


def test_free_text_columns_are_mission_only_in_any_mart() -> None:
    """Declared or not as mission-only, a column named like free text stays at mission."""
    columns = ("id", "notes", "field_comments", "org_type_description", "quantity")
    spec = MartSpec(name="fct_any", key="id", columns=columns, mission_only=("quantity",))
    assert spec.shared_columns("public") == spec.shared_columns("partners") == ["id"]
    assert spec.shared_columns("mission") == list(columns)


def test_readers_never_see_a_partial_version(tmp_path: Path) -> None:
    make_warehouse(_wh(tmp_path), rows=50)
    publish(tmp_path, _passed(tmp_path), keep=50)
    ctx = mp.get_context("spawn")
    queue, stop = ctx.Queue(), ctx.Event()
    progress = ctx.Array("i", [0, 0])  # the reader's reads and versions seen
    reader = ctx.Process(target=read_current, args=(str(tmp_path), stop, progress, queue))
    reader.start()
    # Publish while it reads, until it has read a dozen times across several versions:
    # counted, not timed, as a loaded machine starts a spawned process in its own time.
    published, deadline = 1, time.monotonic() + 300
    while (progress[0] < 12 or progress[1] < 3) and published < 40:
        assert reader.is_alive(), f"the reader stopped (exit code {reader.exitcode})"
        assert time.monotonic() < deadline, f"the reader read {progress[:]} in 300 s"
        if progress[0] > 0 or published < 2:  # the reader has started, or publish anyway
            publish(tmp_path, _passed(tmp_path), keep=50)
            published += 1
        else:
            time.sleep(0.1)
    stop.set()
    result = queue.get(timeout=60)
    reader.join(timeout=30)
    assert result["errors"] == []
    assert result["reads"] >= 12 and result["versions"] >= 3, result
    assert published == len(versions(tmp_path))
