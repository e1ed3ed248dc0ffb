"""How many published versions are kept is one setting, keep_versions in
expectations/gate.yml, whoever publishes or prunes (CLI, Airflow, maintenance)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ingest import settings, stages
from ingest.publish.reader import versions
from ingest.publish.writer import publish
from tests.gate.factory import make_warehouse

from .test_publish import _passed, _wh


def test_publish_and_prune_keep_the_setting_unless_told(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "project"
    shutil.copytree(settings.PROJECT_DIR / "expectations", project / "expectations")
    (project / "dbt_project").symlink_to(settings.PROJECT_DIR / "dbt_project")
    setting = project / "expectations" / "gate.yml"
    setting.write_text("keep_versions: 2\n")
    monkeypatch.setattr(settings, "PROJECT_DIR", project)
    make_warehouse(_wh(tmp_path))
    made = [publish(tmp_path, _passed(tmp_path), keep=10) for _ in range(4)]
    assert versions(tmp_path) == made
    newest = publish(tmp_path, _passed(tmp_path))
    assert versions(tmp_path) == [made[-1], newest]
    setting.write_text("keep_versions: 1\n")
    stages.prune(settings.Settings.resolve(data_dir=tmp_path))
    assert versions(tmp_path) == [newest]
