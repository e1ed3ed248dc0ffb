"""Landed bytes, the log, quarantine, state, reports and the warehouse hold raw personal
data: folders 0700 and files 0600. The data directory itself stays as the umask makes
it, so the published dataset in it stays readable."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ingest.feeds.pipeline import ingest_feed
from ingest.feeds.registry import Feed, parse_registry
from ingest.log.eventlog import EventLog
from ingest.serve.digest import quarantine_digest, write_digest
from ingest.warehouse import runner as warehouse
from tests.conftest import TEST_FEED_YAML, drop

PRIVATE = ("landing", "eventlog", "quarantine", "state", "reports", "warehouse")


@pytest.fixture(autouse=True)
def usual_umask() -> Iterator[None]:
    old = os.umask(0o022)
    yield
    os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_everything_the_pipeline_writes_is_private(tmp_path: Path, feed: Feed, monkeypatch):
    root = tmp_path / "data"
    drop(feed, "a.csv", "id,when,text\nA,2026-10-30,x\n,2026-10-31,no id\n")
    assert ingest_feed(feed, root).ok
    drop(feed, "b.csv", "id,when,text\nB,2026-10-31,y\n")
    assert ingest_feed(feed, root).ok
    assert EventLog(root).compact(feed.id) is not None
    write_digest(
        root, quarantine_digest(root, [feed], datetime(2000, 1, 1, tzinfo=UTC), datetime.now(UTC))
    )
    # the warehouse folder, as a build creates it (dbt itself is not needed for that)
    monkeypatch.setattr(warehouse, "run_dbt", lambda *a, **k: warehouse.DbtRun(True, None, [], 0))
    warehouse.build(root, registry=parse_registry(TEST_FEED_YAML, {}, tmp_path))

    assert mode(root) == 0o755
    for top in PRIVATE:
        assert (root / top).is_dir(), top
        for path in [root / top, *(root / top).rglob("*")]:
            if path.is_dir():
                assert mode(path) == 0o700, path
            elif top != "warehouse":  # DuckDB's own file, behind its 0700 folder
                assert mode(path) == 0o600, path
    assert any((root / "quarantine").rglob("*.parquet"))
    assert any((root / "landing").rglob("*")) and any((root / "reports").iterdir())
