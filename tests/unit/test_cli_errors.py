"""One error style for every command: a line naming the failure and the fix, exit code
1, the traceback only with `peaceops -v`."""

from __future__ import annotations

import errno
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from ingest import gate
from ingest.cli import main
from ingest.commands.explain import explain
from ingest.feeds.registry import RegistryError
from ingest.gate import GateResult
from ingest.publish import writer as publish
from ingest.warehouse import runner as warehouse
from tests.conftest import two_feed_registry

BAD_REGISTRY = "feeds:\n  - id: x.broken\n    agency: x\n    kind: file_drop\n"


@pytest.fixture
def data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PEACEOPS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("COLUMNS", "300")
    return tmp_path / "data"


def assert_one_line_error(result: Result, *words: str) -> str:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1, result.output
    for word in words:
        assert word in errors[0], errors[0]
    return errors[0]


@pytest.mark.parametrize("command", ["run", "build", "ingest", "status"])
def test_a_bad_registry_is_one_line_naming_it(command, data, tmp_path, monkeypatch):
    registry = tmp_path / "feeds.yaml"
    registry.write_text(BAD_REGISTRY)
    monkeypatch.setenv("PEACEOPS_FEEDS", str(registry))
    result = CliRunner().invoke(main, [command])
    assert_one_line_error(result, "x.broken", "is required", "fix the feed registry")
    verbose = CliRunner().invoke(main, ["-v", command])
    assert isinstance(verbose.exception, RegistryError)


HOLD = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1])
print("open", flush=True)
time.sleep(60)
"""


def test_publish_while_a_build_holds_the_warehouse(data):
    path = warehouse.warehouse_path(data)
    path.parent.mkdir(parents=True)
    build = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert build.stdout is not None and build.stdout.readline().strip() == "open"
        result = CliRunner().invoke(main, ["publish"])
    finally:
        build.kill()
        build.wait()
    assert_one_line_error(result, "open in another process", "wait for it to finish", str(path))


def test_run_builds_and_publishes_what_arrived_when_a_feed_fails(data, tmp_path, monkeypatch):
    """The feed server down (here: test.second's inbox missing) no longer stops the chain."""
    monkeypatch.setenv("PEACEOPS_FEEDS", str(two_feed_registry(tmp_path)))
    (tmp_path / "inbox" / "test.reports").mkdir(parents=True)
    (tmp_path / "inbox" / "test.reports" / "a.csv").write_text("id,when\nA,2026-10-30\n")
    stages: list[str] = []

    def build(root, **kw):
        stages.append("build")
        return warehouse.BuildResult(ok=True, as_of="2026-10-31T00:00:00+00:00")

    def check(root, **kw):
        stages.append("check")
        return GateResult(passed=True, checked_at="2026-10-31T00:00:00+00:00")

    def publish_version(root, gate_result, **kw):
        stages.append("publish")
        return root / "published" / "20261031T000000.000000Z"

    monkeypatch.setattr(warehouse, "build", build)
    monkeypatch.setattr(gate, "run_gate", check)
    monkeypatch.setattr(publish, "publish", publish_version)
    result = CliRunner().invoke(main, ["run"])
    assert result.exit_code == 1, result.output
    assert stages == ["build", "check", "publish"]
    lines = result.output.splitlines()
    assert any(
        "test.second" in line and "FAILED" in line and "does not exist" in line for line in lines
    )
    assert any(line.split()[:2] == ["ingest", "FAILED"] for line in lines), result.output
    assert any(line.split()[:2] == ["publish", "ok"] for line in lines), result.output


def test_explain_gives_the_fix_or_points_at_the_traceback():
    full = explain(OSError(errno.ENOSPC, "No space left on device", "/data/x"))
    assert full.startswith("OSError: [Errno 28]") and full.endswith(
        "free space on the data directory's disk, then rerun"
    )
    odd = explain(RuntimeError("first line\n  second line"))
    assert odd == "RuntimeError: first line second line (peaceops -v shows where it failed)"
