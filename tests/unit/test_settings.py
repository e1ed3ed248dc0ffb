"""One declaration per setting (ingest.settings): the order in which a setting is resolved,
and a scan of the code that fails when a second module reads one of the settings'
variables or states one of their defaults again."""

from __future__ import annotations

import ast
import re
from datetime import date
from pathlib import Path

import pytest

from ingest import settings as settings_module
from ingest.releasability import AUDIENCES
from ingest.settings import (
    DATA_DIR_ENV,
    DEFAULT_MEMORY_LIMIT,
    FEEDS_ENV,
    MEMORY_LIMIT_ENV,
    PACKS_ENV,
    PROJECT_DIR,
    Settings,
)
from tests.conftest import TEST_FEED_YAML

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = ROOT / "src" / "ingest" / "settings.py"
CODE = sorted([*(ROOT / "src").rglob("*.py"), *(ROOT / "dags").glob("*.py")])
ENV_NAMES = {DATA_DIR_ENV, FEEDS_ENV, PACKS_ENV, MEMORY_LIMIT_ENV}
# the default paths, as literals: the data dir, the feeds file
DEFAULTS = {"data", "feeds.yaml"}


def _second_declarations(path: Path) -> list[str]:
    """Where `path` names a setting's variable or states a default of one as a literal."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Constant) and node.value in (*ENV_NAMES, DEFAULT_MEMORY_LIMIT):
            found.append(f"{path}:{node.lineno}: {node.value!r}")
        elif (
            isinstance(node, ast.BinOp)
            and isinstance(node.right, ast.Constant)
            and node.right.value in DEFAULTS
        ):  # project / "feeds.yaml"
            found.append(f"{path}:{node.lineno}: {ast.unparse(node)}")
        elif (
            isinstance(node, ast.Call)
            and node.args
            and isinstance(node.args[-1], ast.Constant)
            and node.args[-1].value in DEFAULTS
            and getattr(node.func, "id", getattr(node.func, "attr", "")) in ("Path", "get")
        ):  # Path("data"), os.environ.get(..., "3GB")
            found.append(f"{path}:{node.lineno}: {ast.unparse(node)}")
        elif isinstance(node, ast.Subscript) and ast.unparse(node).endswith("parents[2]"):
            # the checkout's root, located once (PROJECT_DIR)
            found.append(f"{path}:{node.lineno}: {ast.unparse(node)}")
    return found


def test_only_the_settings_module_reads_the_settings_variables_or_states_their_defaults():
    found = [line for path in CODE if path != SETTINGS for line in _second_declarations(path)]
    assert found == []
    # ... and the scan sees what it looks for where it is declared: the four names, the
    # memory limit, ./data, ./feeds.yaml and the checkout
    assert len(_second_declarations(SETTINGS)) == len(ENV_NAMES) + 4, _second_declarations(SETTINGS)


def test_the_scan_catches_a_second_default(tmp_path: Path) -> None:
    drift = tmp_path / "drift.py"
    drift.write_text(
        "import os\nfrom pathlib import Path\n"
        f"root = Path(os.environ.get({DATA_DIR_ENV!r}, 'x'))\n"
        "limit = os.environ.get('X', '3GB')\nhere = Path('data')\n"
        "repo = Path(__file__).parents[2]\nfeeds = repo / 'feeds.yaml'\n"
    )
    assert len(_second_declarations(drift)) == 5


def test_dbt_reads_the_settings_with_no_defaults_of_its_own():
    profile = (PROJECT_DIR / "dbt_project" / "profiles.yml").read_text()
    calls = re.findall(r"env_var\(([^)]*)\)", profile)
    assert calls, "profiles.yml no longer reads the warehouse and memory limit from the build"
    assert all("," not in call for call in calls), calls


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project folder with its own gate.yml and feeds.yaml."""
    (tmp_path / "expectations").mkdir()
    (tmp_path / "expectations" / "gate.yml").write_text("keep_versions: 7\n")
    (tmp_path / "feeds.yaml").write_text(TEST_FEED_YAML + "mission: {start: 2026-03-01}\n")
    return tmp_path


def test_precedence_override_then_environment_then_config_file_then_default(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path / "expectations")  # no feeds.yaml in the working directory
    default = Settings.resolve({}, project_dir=project)
    assert default.data_dir == (tmp_path / "expectations" / "data")
    assert default.feeds_file == project / "feeds.yaml"
    assert default.memory_limit == DEFAULT_MEMORY_LIMIT
    assert default.keep_versions == 7  # gate.yml, not GateConfig's default
    assert default.packs == () and default.mission_start == date(2026, 3, 1)
    assert default.audiences is AUDIENCES
    assert default.dbt_project_dir == project / "dbt_project"
    assert default.expectations_dir == project / "expectations"

    env = {
        DATA_DIR_ENV: str(tmp_path / "env-data"),
        FEEDS_ENV: str(tmp_path / "env-feeds.yaml"),
        MEMORY_LIMIT_ENV: "1GB",
        PACKS_ENV: f"{tmp_path / 'a'}:{tmp_path / 'b'}",
    }
    from_env = Settings.resolve(env, project_dir=project)
    assert from_env.data_dir == tmp_path / "env-data"
    assert from_env.feeds_file == tmp_path / "env-feeds.yaml"
    assert from_env.memory_limit == "1GB"
    assert from_env.packs == (tmp_path / "a", tmp_path / "b")

    told = Settings.resolve(
        env,
        project_dir=project,
        data_dir=Path("cli-data"),
        feeds_file=Path("cli.yaml"),
        memory_limit="2GB",
        keep_versions=3,
        packs=(Path("p"),),
    )
    assert told.data_dir == Path("cli-data").absolute()
    assert told.feeds_file == Path("cli.yaml").absolute()
    assert (told.memory_limit, told.keep_versions) == ("2GB", 3)
    assert told.packs == (Path("p").absolute(),)


def test_feeds_yaml_in_the_working_directory_comes_before_the_projects(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    here = tmp_path / "here"
    here.mkdir()
    (here / "feeds.yaml").write_text(TEST_FEED_YAML)
    monkeypatch.chdir(here)
    assert Settings.resolve({}, project_dir=project).feeds_file == here / "feeds.yaml"


def test_the_process_environment_is_the_default_and_read_when_resolved(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path))
    assert Settings.resolve().data_dir == tmp_path
    monkeypatch.setenv(MEMORY_LIMIT_ENV, "512MB")
    from ingest.sessions import connect

    con = connect()
    try:
        assert con.execute("SELECT current_setting('memory_limit')").fetchone()[0] in (
            "512.0 MiB",
            "488.2 MiB",
        )
    finally:
        con.close()


def test_a_checkout_reads_its_project_files_where_they_are_edited():
    """In a wheel they ship as ingest/_project (pyproject.toml); tests/e2e/test_wheel.py."""
    assert not (Path(settings_module.__file__).parent / "_project").exists()
    assert PROJECT_DIR == ROOT
