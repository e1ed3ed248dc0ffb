"""How many published versions are kept is one setting, keep_versions in
expectations/gate.yml, whoever publishes or prunes (CLI, Airflow, maintenance)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.gate import config
from ingest.orchestration import run_prune
from ingest.publish.reader import versions
from ingest.publish.writer import publish
from tests.gate.factory import make_warehouse

from .test_publish import _passed, _wh


def test_publish_and_prune_keep_the_setting_unless_told(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    setting = tmp_path / "gate.yml"
    setting.write_text("keep_versions: 2\n")
    monkeypatch.setattr(config, "CONFIG_FILE", setting)
    make_warehouse(_wh(tmp_path))
    made = [publish(tmp_path, _passed(tmp_path), keep=10) for _ in range(4)]
    assert versions(tmp_path) == made
    newest = publish(tmp_path, _passed(tmp_path))
    assert versions(tmp_path) == [made[-1], newest]
    setting.write_text("keep_versions: 1\n")
    run_prune(tmp_path)
    assert versions(tmp_path) == [newest]
