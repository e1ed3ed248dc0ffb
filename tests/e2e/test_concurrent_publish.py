"""Ingest and build at the same time, as under Airflow: a published version holds exactly
the loads its manifest lists (DESIGN.md rule 5: known means committed).

While the build runs, another process drops a simulated operation's last files into
three inboxes and ingests them, and a pull that began before the build commits only
once dbt is running: its `recorded_at` lies before the build's moment, its commit after.
The version published lists every load known by its moment and no other, and a build
as of that moment, made afterwards and published as a historical version, gives the
same rows.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from ingest.gate import run_gate
from ingest.lab.simulate import simulate
from ingest.log.eventlog import EventLog
from ingest.publish.reader import current_version
from ingest.publish.writer import publish
from ingest.warehouse.runner import build

from ..warehouse.logbuilder import REPO, begin, feeds, finish, ingest_simulation, project_registry

pytestmark = pytest.mark.slow

DAILY = ("moi.incidents", "cpn.incidents", "forcar.patrols")
HELD_DAYS = 3
# drops the held files into their inboxes one at a time, ingesting each
INGEST = """
import shutil, sys
from pathlib import Path
from ingest.feeds.pipeline import ingest_feed
from ingest.feeds.registry import load_registry
root, held, registry = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
feeds = {f.id: f for f in load_registry(registry, root).feeds}
for path in sorted(held.glob("*/*")):
    shutil.move(path, root / "sim" / "inbox" / path.parent.name / path.name)
    result = ingest_feed(feeds[path.parent.name], root)
    assert result.ok and result.load_id, result.error
"""


def published_rows(version: Path) -> dict[str, list[tuple]]:
    """Every table of every audience of a published version, rows sorted."""
    out = {}
    for db in sorted(version.glob("*/unified.duckdb")):
        con = duckdb.connect(str(db), read_only=True)
        try:
            for (table,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall():
                rows = con.execute(f"SELECT * FROM main.{table}").fetchall()
                out[f"{db.parent.name}/{table}"] = sorted(rows, key=repr)
        finally:
            con.close()
    return out


def test_a_version_holds_exactly_the_loads_its_manifest_lists(tmp_path: Path) -> None:
    root = tmp_path / "data"
    simulate(root / "sim", seed=7, days=6)
    held = tmp_path / "held"
    for feed_id in DAILY:
        files = sorted((root / "sim" / "inbox" / feed_id).iterdir())[-HELD_DAYS:]
        (held / feed_id).mkdir(parents=True)
        for path in files:
            shutil.move(path, held / feed_id / path.name)
    ingest_simulation(root)
    row = {"Incident No": "M-LATE", "Date": "01/10/2026", "Type": "Pillage", "Place": "Teya"}
    straddling = begin(root, feeds(root)["moi.incidents"], [row], None)
    committed = threading.Event()
    ingest = subprocess.Popen(
        [sys.executable, "-c", INGEST, str(root), str(held), str(REPO / "feeds.yaml")]
    )

    def commit_late() -> None:
        finish(straddling)
        committed.set()

    def on_step(_: str) -> None:
        # the build has its snapshot and is about to run dbt: the pull commits now
        threading.Thread(target=commit_late).start()
        assert committed.wait(60)

    try:
        built = build(root, registry=project_registry(root), on_step=on_step)
    finally:
        assert ingest.wait(300) == 0
    assert built.ok, built.failures
    gate = run_gate(root, data_docs=False)
    assert gate.passed, [f.describe() for f in gate.failures]
    version = publish(root, gate)
    manifest = json.loads((version / "manifest.json").read_text())

    as_of = datetime.fromisoformat(manifest["as_of"])
    commits = EventLog(root).commits()
    late = next(c for c in commits if c.load_id == straddling.load_id)
    assert datetime.fromisoformat(late.recorded_at) < as_of < late.known
    assert sum(c.known > as_of for c in commits) > 1, "nothing was ingested during the build"
    assert manifest["loads"] == sorted(c.load_id for c in commits if c.known <= as_of)
    for feed_id, mark in manifest["event_high_water_marks"].items():
        known = [c for c in commits if c.feed_id == feed_id and c.known <= as_of]
        assert mark["events_appended"] == sum(c.counts["appended"] for c in known), feed_id
        by_feed = {f["feed_id"]: f for f in gate.feeds}
        assert mark["events_appended"] == by_feed[feed_id]["events_committed"], feed_id

    # the same moment, rebuilt once everything has committed: the same loads, the same rows
    again = build(root, registry=project_registry(root), as_of=as_of)
    assert again.ok, again.failures
    regate = run_gate(root, data_docs=False)
    assert regate.passed and regate.historical, [f.describe() for f in regate.failures]
    past = publish(root, regate)
    remanifest = json.loads((past / "manifest.json").read_text())
    assert remanifest["historical"] and remanifest["as_of"] == manifest["as_of"]
    assert remanifest["loads"] == manifest["loads"]
    assert current_version(root) == version.resolve()  # a historical version is not current
    assert published_rows(past) == published_rows(version)
