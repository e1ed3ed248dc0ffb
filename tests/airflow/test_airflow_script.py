"""scripts/airflow.sh starts its own feed server or fails loudly: with the port taken,
ingest would otherwise pull another process's server."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).parents[2]
BIN = REPO / ".venv" / "bin"


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        yield s.getsockname()[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def feeds_sh(script: str, bin_dir: Path = BIN) -> subprocess.CompletedProcess:
    """Run `script` in bash after sourcing scripts/feeds.sh."""
    return subprocess.run(
        ["bash", "-c", f"source {REPO / 'scripts' / 'feeds.sh'}; {script}"],
        env={**os.environ, "BIN": str(bin_dir)},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_airflow_sh_stops_before_anything_when_the_port_is_taken(tmp_path, taken_port):
    done = subprocess.run(
        ["bash", str(REPO / "scripts" / "airflow.sh")],
        env={
            **os.environ,
            "PEACEOPS_DATA_DIR": str(tmp_path),
            "PEACEOPS_FEEDS_PORT": str(taken_port),
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert f"port {taken_port} for the feed server is taken" in done.stderr
    assert list(tmp_path.iterdir()) == []  # no simulation, no Airflow home


def test_a_feed_server_that_answers_its_health_check_is_up(tmp_path):
    port = free_port()
    done = feeds_sh(
        f'port_free {port} && start_feed_server {port} {tmp_path / "log"} && echo up; kill "$FEEDS_PID"'
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "up"


def test_a_feed_server_that_dies_at_start_is_reported(tmp_path):
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "python").symlink_to(sys.executable)
    (fake / "peaceops").write_text("#!/bin/sh\necho 'cannot listen' >&2\nexit 3\n")
    (fake / "peaceops").chmod(0o755)
    done = feeds_sh(f"start_feed_server {free_port()} {tmp_path / 'log'}", fake)
    assert done.returncode == 1
    assert "the feed server stopped at start" in done.stderr and "cannot listen" in done.stderr
