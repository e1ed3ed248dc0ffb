"""A full or read-only disk fails each feed alone, in one line: the other feeds are
still tried, the summary is printed with the failed feeds marked FAILED, no traceback."""

from __future__ import annotations

import errno
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from ingest.cli import main
from ingest.feeds import pipeline
from ingest.feeds.registry import parse_registry
from ingest.log.eventlog import EventLog
from tests.conftest import two_feed_registry

FEEDS = ("test.reports", "test.second")
ROWS = {"test.reports": 2000, "test.second": 20}  # about 420 KB and 4 KB


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Two file-drop feeds with a file each (inboxes outside the data directory)."""
    registry = two_feed_registry(tmp_path)
    for feed in parse_registry(registry.read_text(), {}, tmp_path).feeds:
        Path(feed.location).mkdir(parents=True)
        rows = "".join(f"{feed.id}-{i},2026-10-30,{'x' * 200}\n" for i in range(ROWS[feed.id]))
        (Path(feed.location) / "a.csv").write_text("id,when,text\n" + rows)
    monkeypatch.setenv("PEACEOPS_FEEDS", str(registry))
    monkeypatch.setenv("COLUMNS", "300")
    return tmp_path


def ingest(data: Path, monkeypatch: pytest.MonkeyPatch) -> Result:
    monkeypatch.setenv("PEACEOPS_DATA_DIR", str(data))
    return CliRunner().invoke(main, ["ingest"])


def assert_failed_alone(result: Result, reason: str, failed: tuple[str, ...] = FEEDS) -> None:
    """`failed` feeds failed in one line each giving `reason`, the others went through."""
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit) and "Traceback" not in result.output
    rows = {line.split()[1]: line for line in result.output.splitlines() if "│ test." in line}
    assert set(rows) == set(FEEDS), result.output  # the summary was printed, every feed tried
    for feed_id in FEEDS:
        lines = [line for line in result.output.splitlines() if f"feed {feed_id} FAILED:" in line]
        if feed_id in failed:
            assert "FAILED" in rows[feed_id]
            assert len(lines) == 1 and reason in lines[0], result.output
        else:
            assert "│ ok" in rows[feed_id] and lines == [], result.output


def mount(*args: str) -> None:
    done = subprocess.run(["mount", *args], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount here (needs root and mount rights): {done.stderr.strip()}")


@pytest.fixture
def mounted() -> Iterator[list[Path]]:
    points: list[Path] = []
    yield points
    for point in reversed(points):
        subprocess.run(["umount", "-l", str(point)], check=False)


def test_no_space_left_when_recording_a_pull(project: Path, monkeypatch):
    """Where `peaceops ingest` used to crash: the pull's state file."""

    def full(path: str, flags: int) -> int:
        raise OSError(errno.ENOSPC, "No space left on device", path)

    monkeypatch.setattr(pipeline, "private_opener", full)
    result = ingest(project / "data", monkeypatch)
    assert_failed_alone(result, "[Errno 28] No space left on device")
    # the loads themselves were committed; only their state file is missing
    assert {c.feed_id for c in EventLog(project / "data").commits()} == set(FEEDS)


def test_a_full_disk_fails_each_feed_alone(project: Path, monkeypatch, mounted):
    data = project / "data"
    data.mkdir()
    mount("-t", "tmpfs", "-o", "size=256k", "tmpfs", str(data))
    mounted.append(data)
    result = ingest(data, monkeypatch)
    # the large file does not fit; the small one of the next feed does
    assert_failed_alone(result, "No space left on device", failed=("test.reports",))
    assert [c.feed_id for c in EventLog(data).commits()] == ["test.second"]


def test_a_read_only_data_dir_fails_each_feed_alone(project: Path, monkeypatch, mounted):
    data, readonly = project / "data", project / "readonly"
    assert ingest(data, monkeypatch).exit_code == 0  # a log to protect
    readonly.mkdir()
    mount("--bind", str(data), str(readonly))
    mounted.append(readonly)
    mount("-o", "remount,bind,ro", str(readonly))
    for feed in parse_registry((project / "feeds.yaml").read_text(), {}, project).feeds:
        (Path(feed.location) / "b.csv").write_text("id,when\nnew,2026-10-31\n")
    result = ingest(readonly, monkeypatch)
    assert_failed_alone(result, "Read-only file system")
    assert len(EventLog(data).commits()) == 2
