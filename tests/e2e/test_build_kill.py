"""A build that fails, or is killed mid-way, leaves the last good warehouse in use and
queryable; `publish` while a build runs waits for it, or says in one line why it gave up."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from ingest.cli import main
from ingest.lab.simulate import simulate
from ingest.warehouse import runner as warehouse
from ingest.warehouse.runner import DbtRun, build, built_state, failed_path, warehouse_path

from ..warehouse.logbuilder import REPO, ingest_simulation, project_registry

pytestmark = pytest.mark.slow

# a build in its own process that says when dbt starts, so it can be killed while dbt runs
BUILD = """
import sys
from pathlib import Path
from ingest.feeds.registry import load_registry
from ingest.warehouse.runner import build
root = Path(sys.argv[1])
build(root, registry=load_registry(Path(sys.argv[2]), root), full_refresh=True,
      on_step=lambda step: print("dbt", flush=True))
"""


def marts(path: Path) -> dict[str, int]:
    """Rows per mart of the warehouse file at `path`, read-only, as an analyst opens it."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'marts'"
        ).fetchall()
        return {t: con.execute(f"SELECT count(*) FROM marts.{t}").fetchone()[0] for (t,) in tables}
    finally:
        con.close()


def test_a_failed_or_killed_build_leaves_the_last_good_warehouse(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "data"
    simulate(root / "sim", seed=7, days=3)
    ingest_simulation(root)
    assert build(root, registry=project_registry(root)).ok
    good = built_state(warehouse_path(root))
    before = marts(warehouse_path(root))
    assert before["fct_incidents"] > 0

    # dbt built every model into the new file, then a test failed: the new file is kept
    # aside to look at, the warehouse in use is the last good one
    real = warehouse.run_dbt

    def failing(*args, **kwargs) -> DbtRun:
        run = real(*args, **kwargs)
        return DbtRun(False, run.invocation_id, ["test.peaceops.seeded: fail"], run.nodes)

    monkeypatch.setattr(warehouse, "run_dbt", failing)
    failed = build(root, registry=project_registry(root))
    monkeypatch.setattr(warehouse, "run_dbt", real)
    assert not failed.ok and failed.warehouse == failed_path(root)
    assert built_state(warehouse_path(root)) == good
    assert marts(warehouse_path(root)) == before

    # killed while dbt writes; meanwhile publish waits for the build, or gives up in a line
    monkeypatch.setenv("PEACEOPS_DATA_DIR", str(root))
    monkeypatch.setenv("PEACEOPS_FEEDS", str(REPO / "feeds.yaml"))
    monkeypatch.setenv("PEACEOPS_LOCK_TIMEOUT", "1")
    proc = subprocess.Popen(
        [sys.executable, "-c", BUILD, str(root), str(REPO / "feeds.yaml")],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "dbt"
        refused = CliRunner().invoke(main, ["publish"])
        time.sleep(4)  # dbt is seeding and building models into the new file
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
    assert refused.exit_code == 1 and "Traceback" not in refused.output, refused.output
    (line,) = [x for x in refused.output.splitlines() if x.startswith("Error: ")]
    assert "the warehouse build is locked by" in line and "gave up after 1 s" in line
    assert list((root / "warehouse").glob(".build-*.duckdb")), "killed before dbt wrote"
    assert built_state(warehouse_path(root)) == good
    assert marts(warehouse_path(root)) == before
    # checked and published: the last good build
    published = CliRunner().invoke(main, ["publish"])
    assert published.exit_code == 0, published.output
    manifest = json.loads((root / "published" / "current" / "manifest.json").read_text())
    assert manifest["build"]["build_id"] == good.build_id

    # the next build clears what the killed one left
    assert build(root, registry=project_registry(root)).ok
    assert not list((root / "warehouse").glob(".build-*"))
