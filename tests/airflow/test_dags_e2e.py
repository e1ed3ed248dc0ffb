"""End to end under Airflow: every ingest DAG, then the warehouse DAG, then maintenance,
each run with `dag.test()` against the simulated feeds."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from peaceops_policy import feed_asset_uri, ingest_dag_id

from ingest.settings import Settings

from .conftest import DAGS

ENV = {"PEACEOPS_UNMIC_CREDENTIALS": "demo-client:demo-secret"}


@pytest.fixture(scope="module")
def pipeline_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Simulated agencies served on a free port; the data dir a fresh temp dir."""
    from ingest.lab.feedserver import serve
    from ingest.lab.simulate import simulate

    root = tmp_path_factory.mktemp("data")
    simulate(root / "sim", seed=7, days=3)
    server = serve(root / "sim", "127.0.0.1", 0)
    env = {**ENV, "PEACEOPS_FEEDS_URL": server.url, "PEACEOPS_DATA_DIR": str(root)}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        yield root
    finally:
        server.shutdown()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _run(dag, label: str):
    started = time.perf_counter()
    dr = dag.test()
    print(f"{label}: {dr.state} in {time.perf_counter() - started:.1f} s")
    return dr


@pytest.mark.slow
def test_ingest_warehouse_and_maintenance_dags_publish_a_version(airflow_db, pipeline_env):
    from airflow.dag_processing.dagbag import DagBag
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session

    root = pipeline_env
    bag = DagBag(dag_folder=str(DAGS))
    assert not bag.import_errors
    feeds = Settings.resolve().registry.feeds

    for feed in feeds:
        dr = _run(bag.dags[ingest_dag_id(feed.id)], feed.id)
        assert dr.state == "success", feed.id
    # Nothing new: the run succeeds with its task skipped, and no asset event is emitted.
    again = _run(bag.dags[ingest_dag_id(feeds[1].id)], f"{feeds[1].id} again")
    assert again.state == "success"
    assert [ti.state for ti in again.get_task_instances()] == ["skipped"]
    with create_session() as session:
        for feed in feeds:
            events = (
                session.query(AssetEvent)
                .join(AssetModel, AssetEvent.asset_id == AssetModel.id)
                .filter(AssetModel.uri == feed_asset_uri(feed.id))
                .all()
            )
            assert len(events) == 1, feed.id
            extra = events[0].extra
            assert feed.id in extra["load_id"] and extra["read"] > 0, extra
            assert extra["recorded_at"], extra
            assert extra["read"] == (extra["appended"] + extra["duplicates"] + extra["quarantined"])

    dr = _run(bag.dags["peaceops_warehouse"], "warehouse")
    assert dr.state == "success"
    current = root / "published" / "current"
    assert (current / "manifest.json").exists()
    manifest = json.loads((current / "manifest.json").read_text())
    assert manifest["gate"]["passed"]
    with create_session() as session:
        (published,) = (
            session.query(AssetEvent)
            .join(AssetModel, AssetEvent.asset_id == AssetModel.id)
            .filter(AssetModel.uri == "peaceops://published/current")
            .all()
        )
        assert published.extra["version"] == manifest["version"] == current.resolve().name

    dr = _run(bag.dags["peaceops_maintenance"], "maintenance")
    assert dr.state == "success"
    digests = sorted((root / "reports").glob("quarantine-*.json"))
    assert digests
    digest = json.loads(digests[-1].read_text())
    assert digest["total"] > 0
    assert set(digest["agencies"]) == {f.agency for f in feeds}
