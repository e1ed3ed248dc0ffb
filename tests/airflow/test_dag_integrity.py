"""DAG integrity: every file imports cleanly, fast, with no I/O but feeds.yaml, and
every DAG carries retries, tags and the pools the design asks for."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from peaceops_policy import DUCKDB_POOL, feed_asset_uri, ingest_dag_id, on_failure, replay_dag_id

from ingest.settings import Settings

from .conftest import DAGS, ROOT

# Modules beside the DAG files that Airflow is told not to parse (dags/.airflowignore).
IGNORED = {line.strip() for line in (DAGS / ".airflowignore").read_text().splitlines()}
DAG_FILES = sorted(p for p in DAGS.glob("*.py") if p.name not in IGNORED)
HEAVY = ("duckdb", "pyarrow", "dbt", "great_expectations", "pandas", "ingest.feeds.pipeline")
# CPU seconds, not wall-clock: a loaded machine stretches the wall clock, while what a DAG
# file may cost each parse is the work it does.
PARSE_BUDGET_S = 1.0

# Executes each DAG file after airflow.sdk and reports its CPU time and the heavy modules
# it pulled in.
PROBE = """
import json, runpy, sys, time
sys.path.append(DAGS)  # as Airflow's bundle DagBag does
import airflow.sdk
from airflow.sdk import DAG, Asset, AssetAny, Param, dag, task
out = {}
for path in sys.argv[1:]:
    before = set(sys.modules)
    started = time.process_time()
    runpy.run_path(path)
    seconds = time.process_time() - started
    new = set(sys.modules) - before
    out[path] = {"seconds": seconds, "heavy": sorted(
        m for m in new if m.split(".")[0] in HEAVY or m in HEAVY)}
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def bag(airflow_home: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch_module):
    """The DagBag, filled with PEACEOPS_DATA_DIR at a fresh dir and the network cut off."""
    from airflow.dag_processing.dagbag import DagBag

    data = tmp_path_factory.mktemp("untouched-data")
    monkeypatch_module.setenv("PEACEOPS_DATA_DIR", str(data))
    opened: list[str] = []

    def no_network(*args, **kwargs):
        raise AssertionError(f"network access while parsing DAG files: {args}")

    def audit(event: str, args: tuple) -> None:
        if recording and event == "open" and isinstance(args[0], str | Path):
            opened.append(str(args[0]))

    recording = True
    sys.addaudithook(audit)  # audit hooks cannot be removed: `recording` switches it off
    monkeypatch_module.setattr(socket.socket, "connect", no_network)
    try:
        dagbag = DagBag(dag_folder=str(DAGS))
    finally:
        recording = False
        monkeypatch_module.undo()
    return dagbag, data, opened


@pytest.fixture(scope="module")
def monkeypatch_module():
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


def test_every_dag_file_imports_without_errors(bag):
    dagbag, *_ = bag
    assert dagbag.import_errors == {}
    assert {Path(s.file).name for s in dagbag.dagbag_stats} == {p.name for p in DAG_FILES}


def test_parsing_does_no_io_beyond_feeds_yaml(bag):
    dagbag, data, opened = bag
    assert dagbag.dags
    assert list(data.iterdir()) == [], "parsing the DAG files wrote into the data dir"
    project = [Path(p).resolve() for p in opened if Path(p).resolve().is_relative_to(ROOT)]
    others = {
        p
        for p in project
        if p.suffix not in (".py", ".pyc")
        # Airflow's own listing of the folder reads .airflowignore
        and p not in ((ROOT / "feeds.yaml").resolve(), (DAGS / ".airflowignore").resolve())
    }
    assert not others, f"DAG files read more than feeds.yaml: {sorted(others)}"
    assert (ROOT / "feeds.yaml").resolve() in project


def test_each_dag_file_parses_in_under_a_second(bag, airflow_home: Path):
    dagbag, *_ = bag
    print()
    for stat in dagbag.dagbag_stats:
        print(
            f"DagBag {Path(stat.file).name}: {stat.duration.total_seconds():.3f} s wall, "
            f"{stat.dag_num} DAGs, {stat.task_num} tasks"
        )
    # Outside the DagBag too: a fresh interpreter started elsewhere than the project, with
    # airflow.sdk imported first (Airflow's own cost, paid once per parser process).
    probe = PROBE.replace("HEAVY", repr(HEAVY)).replace("DAGS", repr(str(DAGS)))
    env = {**os.environ, "PEACEOPS_DATA_DIR": str(airflow_home / "no-data")}
    done = subprocess.run(
        [sys.executable, "-c", probe, *map(str, DAG_FILES)],
        capture_output=True,
        text=True,
        env=env,
        cwd="/",  # the DAG files must not depend on the working directory
        timeout=120,
        check=True,
    )
    report = json.loads(done.stdout.strip().splitlines()[-1])
    for path, r in report.items():
        print(f"fresh interpreter {Path(path).name}: {r['seconds']:.3f} s CPU")
        assert r["seconds"] < PARSE_BUDGET_S, path
        assert r["heavy"] == [], f"{path} imports {r['heavy']} at parse time"
    assert not (airflow_home / "no-data").exists()


def test_one_ingest_dag_per_feed(bag):
    dagbag, *_ = bag
    feeds = Settings.resolve().registry.feeds
    ingest = {d for d in dagbag.dags if d.startswith("peaceops_ingest.")}
    assert ingest == {ingest_dag_id(f.id) for f in feeds}
    for feed in feeds:
        dag = dagbag.dags[ingest_dag_id(feed.id)]
        assert dag.owner == feed.owner
        assert f"agency:{feed.agency}" in dag.tags
        (task,) = dag.tasks
        assert [a.uri for a in task.outlets] == [feed_asset_uri(feed.id)]
        assert task.pool != DUCKDB_POOL, "ingest of different feeds must run in parallel"


def test_one_manual_replay_dag_per_feed_updating_its_asset(bag):
    dagbag, *_ = bag
    feeds = Settings.resolve().registry.feeds
    replay = {d for d in dagbag.dags if d.startswith("peaceops_replay.")}
    assert replay == {replay_dag_id(f.id) for f in feeds}
    for feed in feeds:
        dag = dagbag.dags[replay_dag_id(feed.id)]
        assert type(dag.timetable).__name__ == "NullTimetable"  # by hand only
        (task,) = dag.tasks
        assert [a.uri for a in task.outlets] == [feed_asset_uri(feed.id)]


def test_every_dag_has_retries_with_backoff_and_tags(bag):
    dagbag, *_ = bag
    assert {"peaceops_warehouse", "peaceops_maintenance"} <= set(dagbag.dags)
    for dag in dagbag.dags.values():
        assert dag.tags, dag.dag_id
        assert "peaceops" in dag.tags
        for task in dag.tasks:
            assert task.retries >= 1, f"{dag.dag_id}.{task.task_id}"
            assert task.retry_exponential_backoff > 1, f"{dag.dag_id}.{task.task_id}"


def test_warehouse_is_scheduled_on_any_feed_and_writers_share_one_pool(bag):
    dagbag, *_ = bag
    wh = dagbag.dags["peaceops_warehouse"]
    condition = wh.timetable.asset_condition
    assert type(condition).__name__ == "AssetAny"
    assert {a.uri for a in condition.objects} == {
        feed_asset_uri(f.id) for f in Settings.resolve().registry.feeds
    }
    assert wh.max_active_runs == 1
    assert {t.task_id: t.pool for t in wh.tasks} == dict.fromkeys(
        ("build", "gate", "publish"), DUCKDB_POOL
    )
    (publish,) = [t for t in wh.tasks if t.task_id == "publish"]
    assert [a.uri for a in publish.outlets] == ["peaceops://published/current"]
    maint = dagbag.dags["peaceops_maintenance"]
    pools = {t.task_id: t.pool for t in maint.tasks}
    assert pools["compact"] == DUCKDB_POOL and pools["prune"] == DUCKDB_POOL
    # the daily whole gate shares the gate's working folder with the warehouse DAG's gate
    assert pools["gate_all"] == DUCKDB_POOL
    # before compaction deletes the event files the warehouse was built from
    assert maint.get_task("gate_all").downstream_task_ids == {"compact"}
    assert maint.max_active_runs == 1


def test_maintenance_keeps_as_many_versions_as_the_one_setting(bag):
    """No number of its own: left empty, prune keeps keep_versions of expectations/gate.yml
    (read when the task runs, as `peaceops publish` and the warehouse DAG read it)."""
    dagbag, *_ = bag
    maint = dagbag.dags["peaceops_maintenance"]
    assert maint.params["keep_versions"] is None


def test_every_task_has_a_timeout_and_every_dag_a_run_timeout_and_the_failure_hook(bag):
    """A hung task or run fails (and is retried) instead of holding its slot forever, and
    every failure, of a task or of a run, goes through the one hook."""
    dagbag, *_ = bag
    for dag in dagbag.dags.values():
        assert dag.dagrun_timeout is not None, dag.dag_id
        assert on_failure in _callbacks(dag.on_failure_callback), dag.dag_id
        for task in dag.tasks:
            where = f"{dag.dag_id}.{task.task_id}"
            assert task.execution_timeout is not None, where
            assert task.execution_timeout < dag.dagrun_timeout, where
            assert on_failure in _callbacks(task.on_failure_callback), where


def _callbacks(value) -> list:
    return list(value) if isinstance(value, list | tuple) else [value]


def test_the_failure_hook_logs_one_line_or_calls_the_configured_one(caplog, monkeypatch):
    from types import SimpleNamespace

    context = {
        "dag": SimpleNamespace(dag_id="peaceops_warehouse"),
        "task_instance": SimpleNamespace(dag_id="peaceops_warehouse", task_id="build"),
        "exception": RuntimeError("dbt build failed"),
    }
    with caplog.at_level("ERROR", logger="peaceops_policy"):
        on_failure(context)
    assert [r.getMessage() for r in caplog.records] == [
        "peaceops: peaceops_warehouse.build failed: dbt build failed"
    ]
    CALLED.clear()
    monkeypatch.setenv(
        "AIRFLOW__PEACEOPS__ON_FAILURE_CALLBACK", "tests.airflow.test_dag_integrity.record"
    )
    caplog.clear()
    on_failure(context)
    assert [context] == CALLED and not caplog.records


CALLED: list = []


def record(context) -> None:
    """A failure hook configured in place of the default (test above)."""
    CALLED.append(context)
