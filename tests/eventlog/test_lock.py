"""Two runs of one feed: the second says who holds the feed's lock and gives up after
its timeout instead of queueing forever without a word."""

from __future__ import annotations

import logging
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from ingest.cli import main
from ingest.durable import lock_timeout
from ingest.feeds.registry import Feed
from ingest.log.eventlog import EventLog
from ingest.settings import DEFAULT_LOCK_TIMEOUT
from tests.conftest import TEST_FEED_YAML, drop

REPO = Path(__file__).parents[2]
HOLDER = """
import sys, time
from pathlib import Path
from ingest.log.eventlog import EventLog
with EventLog(Path(sys.argv[1])).lock(sys.argv[2]):
    print("locked", flush=True)
    time.sleep(float(sys.argv[3]))
"""


def hold(root: Path, feed_id: str, seconds: float) -> subprocess.Popen:
    """Another process that holds the feed's lock for `seconds`."""
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(root), feed_id, str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
    return proc


@pytest.fixture
def env(tmp_path: Path, feed: Feed, monkeypatch: pytest.MonkeyPatch) -> Path:
    registry = tmp_path / "feeds.yaml"
    registry.write_text(TEST_FEED_YAML)
    monkeypatch.setenv("PEACEOPS_FEEDS", str(registry))
    monkeypatch.setenv("PEACEOPS_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "300")
    drop(feed, "a.csv", "id,when\nA,2026-10-30\n")
    return tmp_path


def test_second_run_names_the_holder_and_gives_up(env: Path, feed: Feed):
    holder = hold(env, feed.id, 60)
    try:
        started = time.monotonic()
        result = CliRunner().invoke(main, ["ingest", "--lock-timeout", "1"])
        waited = time.monotonic() - started
    finally:
        holder.kill()
        holder.wait()
    assert result.exit_code == 1, result.output
    assert f"pid {holder.pid} on {socket.gethostname()} since 20" in result.output
    assert "gave up after 1 s" in result.output
    assert 1 <= waited < 10
    assert EventLog(env).commits() == []


def test_second_run_waits_for_the_first_and_says_so(env: Path, feed: Feed, caplog):
    caplog.set_level(logging.WARNING, logger="ingest.durable")
    holder = hold(env, feed.id, 1.5)
    try:
        result = CliRunner().invoke(main, ["ingest", "--lock-timeout", "30"])
    finally:
        holder.wait()
    assert result.exit_code == 0, result.output
    assert f"is locked by pid {holder.pid}" in caplog.text
    assert len(EventLog(env).commits(feed.id)) == 1
    # released: the lock file no longer names anyone
    assert (env / "state" / "locks" / f"{feed.id}.lock").read_text() == ""


def test_timeout_comes_from_the_argument_the_environment_or_the_default(monkeypatch):
    monkeypatch.delenv("PEACEOPS_LOCK_TIMEOUT", raising=False)
    assert lock_timeout() == DEFAULT_LOCK_TIMEOUT
    monkeypatch.setenv("PEACEOPS_LOCK_TIMEOUT", "2.5")
    assert lock_timeout() == 2.5
    assert lock_timeout(7) == 7
    monkeypatch.setenv("PEACEOPS_LOCK_TIMEOUT", "ten")
    with pytest.raises(ValueError, match="PEACEOPS_LOCK_TIMEOUT"):
        lock_timeout()
