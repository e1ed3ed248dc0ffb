"""A non-editable install works: the wheel, installed into a fresh venv, finds its dbt
project, suites and country packs (package data, ingest.settings) and ingests and builds
from a working directory outside the checkout, with nothing of the checkout importable."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import TEST_FEED_YAML

ROOT = Path(__file__).resolve().parents[2]


def _uv() -> str:
    """uv: $UV, else the Makefile's (.tools/bin/uv), else on PATH."""
    for candidate in (os.environ.get("UV"), str(ROOT / ".tools" / "bin" / "uv"), "uv"):
        if candidate and shutil.which(candidate):
            return candidate
    pytest.skip("no uv (make installs it in .tools/)")


def _run(*args: str | Path, **kwargs) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, timeout=600, **kwargs
    )
    assert done.returncode == 0, f"{args}: {done.stderr[-3000:]}"
    return done


@pytest.mark.slow
def test_the_wheel_installed_elsewhere_ingests_and_builds(tmp_path: Path) -> None:
    uv = _uv()
    offline = {**os.environ, "UV_PYTHON_DOWNLOADS": "never", "UV_OFFLINE": "1"}
    # Everything from uv's cache: the build backend, and the locked dependencies.
    _run(uv, "build", "--wheel", "-o", tmp_path / "dist", ROOT, env=offline, cwd=ROOT)
    (wheel,) = (tmp_path / "dist").glob("*.whl")
    lock = tmp_path / "pylock.toml"
    _run(uv, "export", "--frozen", "--no-dev", "--no-emit-project", "--format",
         "pylock.toml", "-o", lock, "-q", env=offline, cwd=ROOT)  # fmt: skip
    venv = tmp_path / "venv"
    python = venv / "bin" / "python"
    _run(uv, "venv", "-q", "--python", os.path.realpath(sys.executable), venv, env=offline)
    _run(uv, "pip", "install", "-q", "--python", python, "-r", lock, env=offline)
    _run(uv, "pip", "install", "-q", "--no-deps", "--python", python, wheel, env=offline)

    work = tmp_path / "work"
    data = tmp_path / "data"
    (data / "inbox" / "test.reports").mkdir(parents=True)
    (data / "inbox" / "test.reports" / "a.csv").write_text(
        "id,when\n1,2026-11-01T10:00Z\n2,2026-11-01T11:00Z\n"
    )
    work.mkdir()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PEACEOPS_", "PYTHON", "VIRTUAL_ENV"))
    }
    env["PEACEOPS_DATA_DIR"] = str(data)
    where = _run(
        python,
        "-c",
        "import ingest, ingest.settings as s; print(ingest.__file__); print(s.PROJECT_DIR)",
        env=env,
        cwd=work,
    ).stdout.split()
    package, project = Path(where[0]), Path(where[1])
    assert package.is_relative_to(venv) and not package.is_relative_to(ROOT)
    assert project == package.parent / "_project"
    for shipped in ("dbt_project/dbt_project.yml", "expectations/gate.yml", "packs/carana"):
        assert (project / shipped).exists(), shipped
    # ./feeds.yaml of the working directory, with the country pack the wheel ships
    (work / "feeds.yaml").write_text(
        TEST_FEED_YAML + f"country_pack: {project / 'packs' / 'carana'}\n"
    )
    before = {p: p.stat().st_mtime_ns for p in project.rglob("*")}
    peaceops = venv / "bin" / "peaceops"

    assert "build" in _run(peaceops, "--help", env=env, cwd=work).stdout
    report = json.loads(_run(peaceops, "ingest", "--json", env=env, cwd=work).stdout)
    assert report["ok"] and report["data_dir"] == str(data)
    assert [(f["feed_id"], f["appended"]) for f in report["feeds"]] == [("test.reports", 2)]
    built = _run(peaceops, "build", env=env, cwd=work)
    assert "build ok" in built.stderr
    assert (data / "warehouse" / "build.duckdb").is_file()
    # the installed project is read, never written (dbt's artifacts go to the data dir)
    assert {p: p.stat().st_mtime_ns for p in project.rglob("*")} == before
    assert not (work / "data").exists() and sorted(os.listdir(work)) == ["feeds.yaml"]
