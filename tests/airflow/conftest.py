"""Airflow test set-up: a throw-away AIRFLOW_HOME with a SQLite metadata DB.

Airflow reads its configuration when first imported, so tests import it only
inside fixtures and tests, after `airflow_home` has set the environment.
"""

from __future__ import annotations

import os
import sqlite3
import sys
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
DAGS = ROOT / "dags"
PRISTINE = "pristine-airflow.db"
# Airflow puts the DAGs folder on sys.path (its bundle DagBag) before it parses a DAG file
# or runs a task; the tests' plain DagBag does not. The DAG files import peaceops_policy.
if str(DAGS) not in sys.path:
    sys.path.append(str(DAGS))


@pytest.fixture(scope="session")
def airflow_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Point Airflow at a temporary home, the project's dags/, no examples, no telemetry,
    no name look-ups."""
    home = tmp_path_factory.mktemp("airflow_home")
    env = {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__USAGE_DATA_COLLECTION__ENABLED": "False",
        # Each task records its host; the default (getfqdn) asks the resolver for this
        # machine's full name: a DNS query wherever /etc/hosts does not list it.
        "AIRFLOW__CORE__HOSTNAME_CALLABLE": "socket.gethostname",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
        "GX_ANALYTICS_ENABLED": "False",
        "DO_NOT_TRACK": "1",
    }
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        yield home
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@pytest.fixture(scope="session")
def airflow_db(airflow_home: Path) -> Path:
    """Create the metadata DB (the same as `airflow db migrate` on a fresh file) and the pool."""
    from airflow.models.pool import Pool
    from airflow.utils import db
    from peaceops_policy import DUCKDB_POOL

    started = time.perf_counter()
    db.initdb()
    Pool.create_or_update_pool(DUCKDB_POOL, 1, "DuckDB writers", include_deferred=False)
    # through SQLite's backup: the tables may still be in the write-ahead log, which a
    # copy of the file alone would leave behind
    with (
        closing(sqlite3.connect(airflow_home / "airflow.db")) as source,
        closing(sqlite3.connect(airflow_home / PRISTINE)) as copy,
    ):
        source.backup(copy)
    print(f"\nairflow metadata DB ready in {time.perf_counter() - started:.1f} s")
    return airflow_home


@pytest.fixture(scope="session")
def pristine_airflow_db(airflow_db: Path) -> Path:
    """A copy of the metadata DB as `airflow_db` made it, before any test ran a DAG: a
    test that starts its own Airflow processes copies it rather than paying for
    `airflow db migrate` and `airflow pools set` (two CLI starts and a migration)."""
    return airflow_db / PRISTINE
