"""End to end: simulate 30 days, ingest every feed (HTTP and file drops), reconcile with the simulator."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.feeds.pipeline import ingest_all
from ingest.feeds.registry import load_registry
from ingest.lab.feedserver import serve
from ingest.lab.simulate import simulate
from ingest.log.eventlog import EventLog
from ingest.sessions import connect

ROOT = Path(__file__).parents[2]
ENV_CREDENTIALS = {"PEACEOPS_UNMIC_CREDENTIALS": "demo-client:demo-secret"}


@pytest.fixture(scope="module")
def ingested(tmp_path_factory):
    root = tmp_path_factory.mktemp("data")
    manifest = simulate(root / "sim", seed=7, days=30)
    server = serve(root / "sim", "127.0.0.1", 0)
    try:
        env = {**ENV_CREDENTIALS, "PEACEOPS_FEEDS_URL": server.url}
        feeds = list(load_registry(ROOT / "feeds.yaml", root, env).feeds)
        first = {r.feed_id: r for r in ingest_all(feeds, root, env=env)}
        second = {r.feed_id: r for r in ingest_all(feeds, root, env=env)}
    finally:
        server.shutdown()
    return root, manifest, feeds, first, second


@pytest.mark.slow
def test_every_feed_ingests_and_reconciles_with_the_simulator(ingested):
    root, manifest, feeds, first, _ = ingested
    assert {f.id for f in feeds} == set(manifest["feeds"])
    con = connect()
    log = EventLog(root)
    for feed in feeds:
        result = first[feed.id]
        assert result.ok, f"{feed.id}: {result.error}"
        expected = manifest["feeds"][feed.id]
        c = result.counts
        assert c.reconciles
        assert c.read == expected["records"], feed.id
        assert c.duplicates == expected["duplicates"], feed.id
        assert c.quarantined == expected["quarantined"], feed.id
        events = con.sql(f"SELECT count(*) FROM ({log.select_sql(feed.id)})").fetchall()[0][0]
        assert events == expected["records"] - expected["duplicates"] - expected["quarantined"]


@pytest.mark.slow
def test_second_ingest_adds_nothing(ingested):
    _, _, feeds, _, second = ingested
    for feed in feeds:
        r = second[feed.id]
        assert r.ok, r.error
        assert r.counts.appended == 0, feed.id
        assert r.load_id is None, f"{feed.id} committed an empty load"


@pytest.mark.slow
def test_quarantine_rows_carry_reason_and_lineage(ingested):
    root, *_ = ingested
    log = EventLog(root)
    rows = (
        connect()
        .sql(
            f"SELECT reason, message, source_ref FROM read_parquet({[str(p) for p in log.quarantine_files()]})"
        )
        .fetchall()
    )
    assert rows
    for reason, message, source_ref in rows:
        assert reason and message
        sha = source_ref.split("#")[0]
        assert len(sha) == 64 and any((root / "landing").glob(f"*/{sha}"))
