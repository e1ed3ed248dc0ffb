"""Airflow on CeleryExecutor, by configuration only: a Redis broker (Debian's
redis-server on loopback), the API server, scheduler, DAG processor and a Celery worker,
each its own process sharing nothing with the others but the data directory and the
metadata database. One ingest DAG and the warehouse DAG it triggers run through the
worker and publish a version."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from peaceops_policy import ingest_dag_id

from .conftest import DAGS

pytestmark = pytest.mark.slow

REDIS = "/usr/bin/redis-server"
BIN = Path(sys.executable).parent
FEED = "unmic.sitreps"  # the http_json feed: its worker reaches the feed server too
DEADLINE = 600  # seconds for the whole chain on a loaded 2-core machine


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait(what: str, ready, timeout: float, logs: Path, processes) -> None:
    """Poll `ready` until it holds; fail with each log's tail on time-out or when one of
    the processes has died."""
    end = time.monotonic() + timeout
    while time.monotonic() < end and all(p.poll() is None for p in processes):
        if ready():
            return
        time.sleep(2)
    tails = "\n".join(
        f"--- {log.name}\n" + "\n".join(log.read_text(errors="replace").splitlines()[-15:])
        for log in sorted(logs.glob("*.log"))
    )
    pytest.fail(f"gave up waiting for {what}\n{tails}", pytrace=False)


@pytest.fixture
def cluster(
    tmp_path: Path, pristine_airflow_db: Path
) -> Iterator[tuple[dict[str, str], Path, Path]]:
    """Redis, the simulated feeds and the four Airflow processes; yields their
    environment, the data directory and the folder of their logs."""
    from ingest.lab.feedserver import serve
    from ingest.lab.simulate import simulate

    assert shutil.which(REDIS), "redis-server is missing: make installs it"
    data, home, logs = tmp_path / "data", tmp_path / "airflow", tmp_path / "logs"
    for folder in (data, home, logs):
        folder.mkdir()
    simulate(data / "sim", seed=7, days=2)
    server = serve(data / "sim", "127.0.0.1", 0)
    broker, api = _free_port(), _free_port()
    env = {
        **os.environ,
        "PATH": f"{BIN}:{os.environ['PATH']}",
        "PEACEOPS_DATA_DIR": str(data),
        "PEACEOPS_FEEDS_URL": server.url,
        "PEACEOPS_UNMIC_CREDENTIALS": "demo-client:demo-secret",
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__CORE__HOSTNAME_CALLABLE": "socket.gethostname",
        "AIRFLOW__USAGE_DATA_COLLECTION__ENABLED": "False",
        # What moves the hub off LocalExecutor: these settings, nothing in dags/ or src/.
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__CELERY__BROKER_URL": f"redis://127.0.0.1:{broker}/0",
        "AIRFLOW__CELERY__RESULT_BACKEND": f"db+sqlite:///{home / 'celery.db'}",
        "AIRFLOW__CELERY__WORKER_CONCURRENCY": "2",
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(api),
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{api}/execution/",
        # Workers and the API server must sign and check task tokens with one key.
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(32),
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
        "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
    }
    airflow = str(BIN / "airflow")
    shutil.copyfile(pristine_airflow_db, home / "airflow.db")  # migrated, with the pool
    commands = {
        "redis": [REDIS, "--port", str(broker), "--bind", "127.0.0.1", "--save", ""],
        "api-server": [airflow, "api-server"],
        "scheduler": [airflow, "scheduler"],
        "dag-processor": [airflow, "dag-processor"],
        "worker": [airflow, "celery", "worker"],
    }
    processes = []
    try:
        for name, command in commands.items():
            with open(logs / f"{name}.log", "w") as log:
                processes.append(
                    subprocess.Popen(
                        command,
                        env=env,
                        cwd=tmp_path,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                    )
                )
        yield env, data, logs, processes
    finally:
        # A throw-away cluster: a few seconds to stop, then killed (a Celery worker's warm
        # shutdown and the API server's took up to half a minute each).
        for process in processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        end = time.monotonic() + 5
        for process in processes:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=max(0.1, end - time.monotonic()))
            with contextlib.suppress(ProcessLookupError):  # the group's children too
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        server.shutdown()


def test_an_ingest_dag_and_the_warehouse_run_on_a_celery_worker(cluster) -> None:
    env, data, logs, processes = cluster
    airflow = str(BIN / "airflow")
    home = Path(env["AIRFLOW_HOME"])
    ingest, warehouse = ingest_dag_id(FEED), "peaceops_warehouse"

    def cli(*args: str) -> None:
        subprocess.run([airflow, *args], env=env, check=True, capture_output=True)

    def query(sql: str, *args: str) -> list[tuple]:
        # the metadata database read directly: each `airflow` command costs seconds
        with sqlite3.connect(home / "airflow.db", timeout=30) as db:
            return db.execute(sql, args).fetchall()

    started = time.monotonic()
    parsed = "select count(*) from dag where dag_id in (?, ?)"
    _wait(
        "the DAGs to be parsed",
        lambda: query(parsed, ingest, warehouse) == [(2,)],
        DEADLINE,
        logs,
        processes,
    )
    cli("dags", "unpause", warehouse)
    cli("dags", "unpause", ingest)  # catchup is off: one run, of the latest interval
    current = data / "published" / "current" / "manifest.json"
    _wait(
        "a published version",
        current.exists,
        DEADLINE - (time.monotonic() - started),
        logs,
        processes,
    )
    print(f"published through Celery in {time.monotonic() - started:.0f} s")

    manifest = json.loads(current.read_text())
    assert manifest["gate"]["passed"]
    states = "select state from dag_run where dag_id = ?"
    _wait(
        "the warehouse run to end",
        lambda: query(states, warehouse) != [("running",)],
        60,
        logs,
        processes,
    )
    assert query(states, warehouse) == [("success",)]

    # Both DAGs' tasks ran as Celery tasks: the result backend records each as done (a
    # moment after the task itself has told Airflow).
    def celery_done() -> int:
        with sqlite3.connect(home / "celery.db", timeout=30) as db:
            done = "select count(*) from celery_taskmeta where status = 'SUCCESS'"
            return db.execute(done).fetchone()[0]

    _wait("Celery to record 4 tasks", lambda: celery_done() >= 4, 60, logs, processes)
    assert "succeeded" in (logs / "worker.log").read_text(errors="replace")
