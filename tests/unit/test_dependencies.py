"""Every third-party import of the package is declared in pyproject.toml: in the core
dependencies, or in the extra of the part that needs it; so an install of the core
(`pip install .`) ingests, builds, checks and publishes without Airflow or Streamlit."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).parents[2]
PACKAGE = ROOT / "src" / "ingest"
# the parts that may import what an extra brings, beside the core
EXTRA_OF = {
    "serve/dashboard/": "dashboard",
    "warehouse/spark.py": "spark",
    "lab/": "lab",
}

# a distribution that is only a bundle of others: declaring it declares them
BUNDLES = {"apache-airflow": {"apache-airflow-core", "apache-airflow-task-sdk"}}


def _name(requirement: str) -> str:
    return re.split(r"[<>=\[;! ]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def _declared() -> tuple[set[str], dict[str, set[str]]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = {k: {_name(r) for r in v} for k, v in project["optional-dependencies"].items()}
    for names in extras.values():
        names |= {part for bundle in names & BUNDLES.keys() for part in BUNDLES[bundle]}
    return {_name(r) for r in project["dependencies"]}, extras


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found - set(sys.stdlib_module_names) - {"ingest", "__future__"}


def test_every_import_is_declared_for_the_part_that_needs_it() -> None:
    core, extras = _declared()
    distributions = packages_distributions()
    missing = []
    for path in sorted(PACKAGE.rglob("*.py")):
        where = path.relative_to(PACKAGE).as_posix()
        extra = next((e for prefix, e in EXTRA_OF.items() if where.startswith(prefix)), "")
        allowed = core | extras.get(extra, set())
        for module in sorted(_imports(path)):
            names = {d.lower().replace("_", "-") for d in distributions.get(module, [module])}
            if not names & allowed:
                missing.append(f"{path.relative_to(ROOT)}: {module} ({', '.join(sorted(names))})")
    assert missing == []


def test_the_extras_add_to_the_core_and_tests_install_them_all() -> None:
    core, extras = _declared()
    assert {"airflow", "celery", "dashboard", "lab"} <= set(extras)
    assert not (extras["dashboard"] | extras["airflow"] | extras["lab"]) & core
    dev = tomllib.loads((ROOT / "pyproject.toml").read_text())["dependency-groups"]["dev"]
    (itself,) = [r for r in dev if r.startswith("peaceops-data-hub[")]
    # all but Spark's, which `make spark-test` adds with the Java it needs
    assert set(itself.split("[")[1].rstrip("]").split(",")) == set(extras) - {"spark"}
