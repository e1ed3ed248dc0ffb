"""One declaration per setting (ingest.settings): the order in which a setting is resolved,
and scans of the code that fail when a second module reads a PEACEOPS_* variable from the
environment, names one of the settings' variables or states one of their defaults again,
or when docs/architecture.md's table of settings drifts from the module."""

from __future__ import annotations

import ast
import re
from datetime import date
from pathlib import Path

import pytest

from ingest import settings as settings_module
from ingest.releasability import AUDIENCES
from ingest.settings import (
    CHECKPOINT_EVERY_ENV,
    DASHBOARD_AUDIENCES_ENV,
    DASHBOARD_TIMINGS_ENV,
    DATA_DIR_ENV,
    DEFAULT_CHECKPOINT_EVERY,
    DEFAULT_LOCK_TIMEOUT,
    DEFAULT_MEMORY_LIMIT,
    DEFAULT_PAGES_PER_LOAD,
    DEFAULT_SPARK_MEMORY,
    DEFAULT_SPARK_PARTITIONS,
    FEEDS_ENV,
    LOCK_TIMEOUT_ENV,
    MEMORY_LIMIT_ENV,
    PACKS_ENV,
    PAGES_PER_LOAD_ENV,
    PROJECT_DIR,
    SPARK_MEMORY_ENV,
    SPARK_PARTITIONS_ENV,
    Settings,
)
from tests.conftest import TEST_FEED_YAML

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = ROOT / "src" / "ingest" / "settings.py"
CODE = sorted([*(ROOT / "src").rglob("*.py"), *(ROOT / "dags").glob("*.py")])
# every variable the settings module declares (its *_ENV constants)
ENV_NAMES = {v for k, v in vars(settings_module).items() if k.endswith("_ENV")}
ARCHITECTURE = ROOT / "docs" / "architecture.md"
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
    # ... and the scan sees what it looks for where it is declared: the variables' names,
    # the memory limit, ./data, ./feeds.yaml and the checkout
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


def _environment_reads(path: Path) -> list[str]:
    """Where `path` reads a hub variable from the process's environment: os.environ.get,
    os.getenv, os.environ[...], `in os.environ` or os.environ.setdefault with a
    PEACEOPS_* literal or a *_ENV constant."""

    def is_environ(node: ast.expr) -> bool:
        return ast.unparse(node) in ("os.environ", "environ")

    def names_a_setting(node: ast.expr) -> bool:
        if isinstance(node, ast.Constant):
            return isinstance(node.value, str) and node.value.startswith("PEACEOPS_")
        return getattr(node, "id", getattr(node, "attr", "")).endswith("_ENV")

    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        key: ast.expr | None = None
        if isinstance(node, ast.Call) and node.args:
            func = node.func
            if ast.unparse(func) in ("os.getenv", "getenv") or (
                isinstance(func, ast.Attribute)
                and func.attr in ("get", "setdefault", "pop")
                and is_environ(func.value)
            ):
                key = node.args[0]
        elif isinstance(node, ast.Subscript) and is_environ(node.value):
            key = node.slice  # os.environ[X] = ... too: a setting's value is the settings'
        elif isinstance(node, ast.Compare) and any(is_environ(c) for c in node.comparators):
            key = node.left  # X in os.environ
        if key is not None and names_a_setting(key):
            found.append(f"{path}:{node.lineno}: {ast.unparse(node)}")
    return found


def test_no_module_but_the_settings_reads_a_hub_variable_from_the_environment():
    """Every PEACEOPS_* variable is declared and read in ingest.settings, and reaches the
    rest of the hub as a Settings attribute. (feeds.yaml's ${PEACEOPS_FEEDS_URL} is the
    registry's own variable, expanded from `Settings.env`; the lab only sets it.)"""
    found = [line for path in CODE if path != SETTINGS for line in _environment_reads(path)]
    assert found == [], "read these through ingest.settings.Settings instead"


def test_the_scan_catches_an_environment_read(tmp_path: Path) -> None:
    drift = tmp_path / "drift.py"
    drift.write_text(
        "import os\nfrom os import environ\nSPARK_ENV = 'X'\n"
        "a = os.environ.get('PEACEOPS_SPARK_PARTITIONS', '4')\n"
        "b = os.getenv(SPARK_ENV)\nc = environ[settings.LOCK_TIMEOUT_ENV]\n"
        "d = 'PEACEOPS_X' in os.environ\ne = os.environ.setdefault('PEACEOPS_Y', '1')\n"
        # not reads of a hub variable: another variable, a mapping that is not os.environ
        "f = os.environ.get('HOME')\ng = env.get(SPARK_ENV)\nh = dict(os.environ)\n"
    )
    assert [line.split(": ", 1)[1][:14] for line in _environment_reads(drift)] == [
        "os.environ.get",
        "os.getenv(SPAR",
        "environ[settin",
        "'PEACEOPS_X' i",
        "os.environ.set",
    ]


def _table_variables() -> set[str]:
    """The environment column of docs/architecture.md's table of settings."""
    text = ARCHITECTURE.read_text()
    table = text[text.index("| setting | override | environment |") :].split("\n\n")[0]
    rows = [line.split("|") for line in table.splitlines()[2:]]
    return {name for row in rows for name in re.findall(r"`(PEACEOPS_\w+)`", row[3])}


def test_the_architecture_table_lists_the_variables_the_settings_declare():
    assert _table_variables() == ENV_NAMES


NEW_SETTINGS = [
    # attribute, variable, default, a value and what it gives, a bad value
    ("lock_timeout", LOCK_TIMEOUT_ENV, DEFAULT_LOCK_TIMEOUT, "2.5", 2.5, "abc"),
    ("pages_per_load", PAGES_PER_LOAD_ENV, DEFAULT_PAGES_PER_LOAD, " 5 ", 5, "0"),
    ("checkpoint_every", CHECKPOINT_EVERY_ENV, DEFAULT_CHECKPOINT_EVERY, "7", 7, "many"),
    ("spark_partitions", SPARK_PARTITIONS_ENV, DEFAULT_SPARK_PARTITIONS, "8", 8, "-1"),
    ("spark_memory", SPARK_MEMORY_ENV, DEFAULT_SPARK_MEMORY, "512M", "512M", "lots"),
    (
        "dashboard_audiences",
        DASHBOARD_AUDIENCES_ENV,
        None,
        " mission, public,mission ",
        ("mission", "public"),
        "restricted",
    ),
]


@pytest.mark.parametrize(("attr", "name", "default", "raw", "value", "bad"), NEW_SETTINGS)
def test_an_environment_setting_its_default_its_value_and_a_bad_value_in_one_line(
    attr: str, name: str, default: object, raw: str, value: object, bad: str
) -> None:
    assert getattr(Settings.resolve({}), attr) == default
    assert getattr(Settings.resolve({name: "  "}), attr) == default  # blank: unset
    assert getattr(Settings.resolve({name: raw}), attr) == value
    wrong = Settings.resolve({name: bad})  # resolving is fine: only asking fails
    with pytest.raises(ValueError) as err:
        getattr(wrong, attr)
    assert str(err.value).startswith(f"{name} must be ")
    assert str(err.value).endswith(f", not {bad!r}") and "\n" not in str(err.value)
    assert err.value.__suppress_context__  # no "during handling ..." chained traceback


def test_the_dashboard_timings_switch_is_on_when_set():
    assert Settings.resolve({}).dashboard_timings is False
    assert Settings.resolve({DASHBOARD_TIMINGS_ENV: ""}).dashboard_timings is False
    assert Settings.resolve({DASHBOARD_TIMINGS_ENV: "1"}).dashboard_timings is True


def test_a_bad_setting_is_one_line_on_the_command_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from click.testing import CliRunner

    from ingest.cli import main

    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path))
    monkeypatch.setenv(LOCK_TIMEOUT_ENV, "abc")
    result = CliRunner().invoke(main, ["publish"])  # waits for a build first
    assert result.exit_code == 1, result.output
    assert f"{LOCK_TIMEOUT_ENV} must be seconds, not 'abc'" in result.output
    assert "Traceback" not in result.output


def test_dbt_reads_the_settings_with_no_defaults_of_its_own():
    profile = (PROJECT_DIR / "dbt_project" / "profiles.yml").read_text()
    calls = re.findall(r"env_var\(([^)]*)\)", profile)
    assert calls, "profiles.yml no longer reads the warehouse and memory limit from the build"
    assert all("," not in call for call in calls), calls


def test_dbt_reads_only_variables_the_build_sets(tmp_path: Path) -> None:
    """A name is written twice, in dbt's Jinja and in ingest.warehouse.runner.dbt_env (the
    as-of moment, the warehouse, the memory limit): every env var the project reads is
    one the build sets."""
    from ingest.warehouse.runner import dbt_env

    project = PROJECT_DIR / "dbt_project"
    texts = [project / "profiles.yml", *project.glob("macros/*.sql"), *project.glob("models/**/*")]
    read = set(
        re.findall(r"env_var\(\s*'([^']+)'", "\n".join(p.read_text() for p in texts if p.is_file()))
    )
    assert {"PEACEOPS_AS_OF", "PEACEOPS_WAREHOUSE"} <= read
    assert read <= dbt_env(Settings.resolve({}, data_dir=tmp_path)).keys()


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
