"""`ingest`, `run` and `publish` print JSON summaries for scripts (as `status` does), and
`run` shows dbt's progress per node as `build` does. Real processes on a copy of the
demo data: stdout must be JSON alone, progress goes to stderr."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ingest.releasability import AUDIENCES

REPO = Path(__file__).resolve().parents[2]
NODE_LINE = re.compile(
    r"^\s*\d+ (success|pass|warn|skipped|error|fail|no-op)\s+(model|test|seed|exposure)\s"
)


def peaceops(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PEACEOPS_DATA_DIR": str(data),
        "PEACEOPS_FEEDS": str(REPO / "feeds.yaml"),
        # the UN API has no credentials here: that feed fails fast, the others are files
        "PEACEOPS_FEEDS_URL": "http://127.0.0.1:9",
        "COLUMNS": "200",
    }
    env.pop("PEACEOPS_UNMIC_CREDENTIALS", None)
    return subprocess.run(
        [str(Path(sys.executable).parent / "peaceops"), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture
def data(demo_data: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "data"
    shutil.copytree(demo_data, copy, symlinks=True)
    return copy


@pytest.mark.slow
def test_ingest_run_and_publish_print_json(data: Path) -> None:
    ingest = peaceops(data, "ingest", "--json")
    assert ingest.returncode == 1, ingest.stderr
    report = json.loads(ingest.stdout)
    feeds = {f["feed_id"]: f for f in report["feeds"]}
    assert report["ok"] is False and len(feeds) >= 7
    assert feeds["unmic.sitreps"]["ok"] is False
    assert "credentials" in feeds["unmic.sitreps"]["error"]
    assert all(f["ok"] and f["appended"] == 0 for k, f in feeds.items() if k != "unmic.sitreps")

    run = peaceops(data, "run", "--json")
    assert run.returncode == 1, run.stderr[-3000:]
    summary = json.loads(run.stdout)
    assert summary["ok"] is False and summary["failed_stage"] == "ingest"
    stages = summary["stages"]
    assert list(stages) == ["ingest", "build", "check", "publish"]
    assert [s["ok"] for s in stages.values()] == [False, True, True, True]
    assert {f["feed_id"] for f in stages["ingest"]["feeds"]} == set(feeds)
    assert stages["check"]["gate"]["passed"] is True
    version = stages["publish"]["version"]
    assert summary["published"].endswith(version) and (data / "published" / version).is_dir()
    # per-node progress, one line per dbt node, as `build` prints it
    # (dbt counts each on-run-start hook as a node but reports no NodeFinished for it)
    hooks = len(
        yaml.safe_load((REPO / "dbt_project" / "dbt_project.yml").read_text())["on-run-start"]
    )
    nodes = [line for line in run.stderr.splitlines() if NODE_LINE.match(line)]
    assert stages["build"]["nodes"] > 50
    assert len(nodes) == stages["build"]["nodes"] - hooks, run.stderr[-3000:]
    assert [int(line.split()[0]) for line in nodes] == list(range(1, len(nodes) + 1))

    published = peaceops(data, "publish", "--json")
    assert published.returncode == 0, published.stderr[-3000:]
    result = json.loads(published.stdout)
    assert result["ok"] is True and result["current_switched"] is True
    assert result["version"] > version
    assert os.path.realpath(data / "published" / "current") == result["published"]
    assert set(result["row_counts"]) == set(AUDIENCES)
    assert result["row_counts"]["mission"]["fct_incidents"] > 0
    assert result["gate"]["passed"] is True
