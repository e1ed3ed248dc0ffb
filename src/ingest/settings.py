"""The hub's settings: one frozen `Settings`, resolved once per command or task from (first
wins) explicit overrides (CLI options, a DAG's params), the environment, the config files
(feeds.yaml, expectations/gate.yml) and the defaults below.

Every setting is declared here and nowhere else: the environment variables' names, the
defaults, where the project files are. tests/unit/test_settings.py fails when another
module reads a PEACEOPS_* variable from the environment, names one of these variables or
states one of these defaults, and when docs/architecture.md's table of settings lists
other variables than these.

The project files (dbt_project/, expectations/, packs/ and the demo feeds.yaml) ship inside
the wheel as `ingest/_project/` (pyproject.toml, hatch force-include) rather than being
located by a setting: an installed hub then builds and checks with no checkout and no
extra configuration, and the dbt models and suites it runs are always those of the code
version that feeds them their vars and parameters. In a checkout (an editable install) they
are read where they are edited, at the checkout's root.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from ingest.feeds.registry import Registry
    from ingest.gate.config import GateConfig

DATA_DIR_ENV = "PEACEOPS_DATA_DIR"
FEEDS_ENV = "PEACEOPS_FEEDS"
# os.pathsep-separated pack folders; left unset, the packs feeds.yaml names. The build also
# passes the packs it uses in it to the dbt plugin (ingest.warehouse.plugins), which runs
# inside dbt and resolves its own Settings.
PACKS_ENV = "PEACEOPS_COUNTRY_PACKS"
MEMORY_LIMIT_ENV = "PEACEOPS_DUCKDB_MEMORY_LIMIT"
# How long a writer waits for a lock another process holds (ingest.durable.holder_lock).
LOCK_TIMEOUT_ENV = "PEACEOPS_LOCK_TIMEOUT"
# How many pages of a paged pull one load commits (ingest.feeds.pipeline).
PAGES_PER_LOAD_ENV = "PEACEOPS_PAGES_PER_LOAD"
# Commits between two checkpoints of the event log (ingest.log.eventlog).
CHECKPOINT_EVERY_ENV = "PEACEOPS_CHECKPOINT_EVERY"
# The Spark build's shuffle partitions and driver memory (ingest.warehouse.spark).
SPARK_PARTITIONS_ENV = "PEACEOPS_SPARK_PARTITIONS"
SPARK_MEMORY_ENV = "PEACEOPS_SPARK_MEMORY"
# The audiences the dashboard offers, comma-separated, the first selected; the dashboard
# command passes the ones it offers on to the Streamlit app in it.
DASHBOARD_AUDIENCES_ENV = "PEACEOPS_DASHBOARD_AUDIENCES"
# A debug switch: set, every page run of the dashboard prints its seconds to stderr (the
# browser test and the bench read them).
DASHBOARD_TIMINGS_ENV = "PEACEOPS_DASHBOARD_TIMINGS"

# Relative to the working directory, as a command line tool's output folder is.
DEFAULT_DATA_DIR = Path("data")
# DuckDB's own default is 80% of the machine; a 10M-event build, gate or publish would take it.
DEFAULT_MEMORY_LIMIT = "3GB"
DEFAULT_LOCK_TIMEOUT = 600.0  # seconds
DEFAULT_PAGES_PER_LOAD = 20
# Reading 100 records costs about 5 ms; a checkpoint of 13,000 about 0.1 s to write.
DEFAULT_CHECKPOINT_EVERY = 100
# A small machine: Spark's default 200 shuffle partitions are 200 tiny tasks each.
DEFAULT_SPARK_PARTITIONS = 4
DEFAULT_SPARK_MEMORY = "2g"
# A JVM memory size as Spark reads one: a number, then b, k, m, g, t or p (+ b).
_JVM_SIZE = re.compile(r"\d+(b|[kmgtp]b?)?", re.IGNORECASE)

_PACKAGED = Path(__file__).resolve().parent / "_project"
# Where dbt_project/, expectations/, packs/ and the demo feeds.yaml are (see above).
PROJECT_DIR = _PACKAGED if _PACKAGED.is_dir() else Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    feeds_file: Path
    memory_limit: str
    project_dir: Path = PROJECT_DIR
    # None: the config file's (gate.yml, feeds.yaml), read when first asked for
    keep_versions_override: int | None = None
    packs_override: tuple[Path, ...] | None = None
    # the environment resolved from: feeds.yaml's ${VAR} references expand in it
    env: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def resolve(
        cls,
        env: Mapping[str, str] | None = None,
        *,
        data_dir: Path | None = None,
        feeds_file: Path | None = None,
        packs: tuple[Path, ...] | None = None,
        memory_limit: str | None = None,
        keep_versions: int | None = None,
        project_dir: Path | None = None,
    ) -> Settings:
        """The settings, each from its override, else the environment `env` (default: the
        process's), else its config file, else its default. Paths come out absolute, so
        a later change of working directory (an Airflow worker's) changes nothing. Only
        the environment is read here (cheap: every DuckDB session asks for the memory
        limit); a config file is parsed when a setting from it is first asked for."""
        env = dict(os.environ if env is None else env)
        project = (project_dir or PROJECT_DIR).absolute()
        if feeds_file is None:
            feeds_file = Path(env[FEEDS_ENV]) if env.get(FEEDS_ENV) else _default_feeds(project)
        if packs is None and env.get(PACKS_ENV):
            packs = tuple(Path(p) for p in env[PACKS_ENV].split(os.pathsep) if p)
        return cls(
            data_dir=Path(data_dir or env.get(DATA_DIR_ENV) or DEFAULT_DATA_DIR).absolute(),
            feeds_file=feeds_file.absolute(),
            memory_limit=memory_limit or env.get(MEMORY_LIMIT_ENV) or DEFAULT_MEMORY_LIMIT,
            project_dir=project,
            keep_versions_override=keep_versions,
            packs_override=None if packs is None else tuple(p.absolute() for p in packs),
            env=env,
        )

    @property
    def dbt_project_dir(self) -> Path:
        return self.project_dir / "dbt_project"

    @property
    def expectations_dir(self) -> Path:
        return self.project_dir / "expectations"

    @property
    def gate_file(self) -> Path:
        return self.expectations_dir / "gate.yml"

    @cached_property
    def gate(self) -> GateConfig:
        """expectations/gate.yml, parsed."""
        from ingest.gate.config import load_config

        return load_config(self.gate_file)

    @property
    def keep_versions(self) -> int:
        """Published versions kept: the override, else gate.yml's `keep_versions`."""
        if self.keep_versions_override is not None:
            return self.keep_versions_override
        return self.gate.keep_versions

    @cached_property
    def registry(self) -> Registry:
        """feeds.yaml, parsed with these settings' environment and data directory."""
        from ingest.feeds.registry import load_registry

        return load_registry(self.feeds_file, self.data_dir, self.env)

    @property
    def packs(self) -> tuple[Path, ...]:
        """The country packs: the override, else those feeds.yaml names."""
        if self.packs_override is not None:
            return self.packs_override
        return self.registry.country_packs

    @property
    def mission_start(self) -> date:
        """No time in a published mart before it: feeds.yaml's `mission.start`."""
        return self.registry.mission.start

    @property
    def audiences(self) -> Mapping[str, tuple[str, ...]]:
        """Who sees which releasability levels (declared in ingest.releasability)."""
        from ingest.releasability import AUDIENCES

        return AUDIENCES

    # The environment's other settings are parsed when first asked for, as the config
    # files' are: a bad value fails only what uses it, in one line naming the variable.

    @property
    def lock_timeout(self) -> float:
        """Seconds a writer waits for a lock another process holds (a stage's
        `lock_timeout=`, --lock-timeout, overrides it)."""
        return _setting(self.env, LOCK_TIMEOUT_ENV, float, DEFAULT_LOCK_TIMEOUT, "seconds")

    @property
    def pages_per_load(self) -> int:
        """Pages of a paged pull one load commits (ingest_feed's `pages=` overrides it)."""
        return _setting(
            self.env,
            PAGES_PER_LOAD_ENV,
            _positive,
            DEFAULT_PAGES_PER_LOAD,
            "a positive number of pages",
        )

    @property
    def checkpoint_every(self) -> int:
        """Commits between two checkpoints of the event log."""
        return _setting(
            self.env,
            CHECKPOINT_EVERY_ENV,
            _positive,
            DEFAULT_CHECKPOINT_EVERY,
            "a positive number of commits",
        )

    @property
    def spark_partitions(self) -> int:
        """The Spark build's shuffle partitions."""
        return _setting(
            self.env,
            SPARK_PARTITIONS_ENV,
            _positive,
            DEFAULT_SPARK_PARTITIONS,
            "a positive number of partitions",
        )

    @property
    def spark_memory(self) -> str:
        """The Spark build's driver memory, as the JVM reads a size."""
        return _setting(
            self.env, SPARK_MEMORY_ENV, _jvm_size, DEFAULT_SPARK_MEMORY, "a size such as 2g or 512m"
        )

    @property
    def dashboard_audiences(self) -> tuple[str, ...] | None:
        """The audiences the dashboard offers, the first selected; None: not set (the
        dashboard command then decides, by where it listens)."""
        from ingest.releasability import AUDIENCES, allowed_audiences

        what = f"comma-separated audiences among {', '.join(AUDIENCES)}"
        return _setting(self.env, DASHBOARD_AUDIENCES_ENV, allowed_audiences, None, what)

    @property
    def dashboard_timings(self) -> bool:
        """Whether each page run of the dashboard prints its seconds (set to anything)."""
        return bool(self.env.get(DASHBOARD_TIMINGS_ENV))


_T = TypeVar("_T")


def _setting(
    env: Mapping[str, str], name: str, parse: Callable[[str], _T], default: _T, what: str
) -> _T:
    """The variable `name` of `env` parsed, `default` when unset or blank; a value `parse`
    refuses is a ValueError naming the variable and the value."""
    raw = env.get(name, "")
    if not raw.strip():
        return default
    try:
        return parse(raw)
    except ValueError:
        raise ValueError(f"{name} must be {what}, not {raw!r}") from None


def _positive(raw: str) -> int:
    if (number := int(raw)) < 1:
        raise ValueError(raw)
    return number


def _jvm_size(raw: str) -> str:
    if not _JVM_SIZE.fullmatch(raw.strip()):
        raise ValueError(raw)
    return raw.strip()


def _default_feeds(project: Path) -> Path:
    """The working directory's feeds.yaml, as a command line tool finds its config; else the
    project's own (an Airflow worker starts anywhere, a wheel carries the demo registry)."""
    here = Path("feeds.yaml")
    return here if here.is_file() else project / here.name
