"""`build --as-of` end to end, as an operator runs it: an operation loaded in two steps
(the first back-dated with `ingest --now`), then built as known at the first step's
moment, checked and published as a historical version from the command line."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from ingest.cli import main
from ingest.lab.simulate import simulate
from ingest.log.eventlog import EventLog

from ..warehouse.logbuilder import REPO, ingest_simulation

pytestmark = pytest.mark.slow

FIRST = datetime(2026, 6, 13, 23, 59, tzinfo=UTC)
LATER_DAYS = 2  # files of the last two days come in the second step
DAILY = ("moi.incidents", "cpn.incidents", "forcar.patrols", "ncbatt.patrols")
KNOWN_AT = (
    "SELECT record_key, load_id FROM fct_incident_history "
    "WHERE known_from <= ? AND (known_to IS NULL OR known_to > ?)"
)


def test_an_as_of_build_passes_its_tests_and_gate_and_publishes_as_history(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "data"
    simulate(root / "sim", seed=7, days=5, start="2026-06-11")
    later = tmp_path / "later"
    for feed_id in DAILY:
        inbox = root / "sim" / "inbox" / feed_id
        (later / feed_id).mkdir(parents=True)
        for path in sorted(inbox.iterdir())[-LATER_DAYS:]:
            shutil.move(path, later / feed_id / path.name)
    ingest_simulation(root, now=FIRST)
    first = {c.load_id for c in EventLog(root).commits()}
    for path in later.glob("*/*"):
        shutil.move(path, root / "sim" / "inbox" / path.parent.name / path.name)
    ingest_simulation(root)
    assert len(EventLog(root).commits()) > len(first)

    monkeypatch.setenv("PEACEOPS_DATA_DIR", str(root))
    monkeypatch.setenv("PEACEOPS_FEEDS", str(REPO / "feeds.yaml"))
    runner = CliRunner()
    built = runner.invoke(main, ["build", "--as-of", "2026-06-13T23:59Z"])
    # an as-of build is a full refresh: the dbt unit tests ran, on their own fixtures
    assert built.exit_code == 0, built.output
    assert "unit_test" in built.output
    checked = runner.invoke(main, ["check", "--no-docs"])
    assert checked.exit_code == 0, checked.output
    published = runner.invoke(main, ["publish"])
    assert published.exit_code == 0, published.output
    assert "historical version, as known at 2026-06-13T23:59:00+00:00" in published.output

    (version,) = [p for p in (root / "published").iterdir() if p.name[0].isdigit()]
    manifest = json.loads((version / "manifest.json").read_text())
    assert manifest["historical"] is True
    assert datetime.fromisoformat(manifest["as_of"]) == FIRST
    assert set(manifest["loads"]) == first
    assert not (root / "published" / "current").exists()

    # the current version answers "as known at FIRST vs now" in SQL, without a rebuild:
    # the versions known then come from exactly the historical version's loads
    for command in (["build"], ["check", "--no-docs"], ["publish"]):
        done = runner.invoke(main, command)
        assert done.exit_code == 0, done.output
    current = root / "published" / "current" / "mission" / "unified.duckdb"
    con = duckdb.connect(str(current), read_only=True)
    try:
        then = con.execute(KNOWN_AT, [FIRST, FIRST]).fetchall()
        now = con.execute(KNOWN_AT, [datetime.now(UTC)] * 2).fetchall()
    finally:
        con.close()
    assert then and {load for _, load in then} <= first
    assert {load for _, load in now} - first, "the second step changed nothing"
