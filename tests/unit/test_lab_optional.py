"""The lab (simulator, feed server, demo) is an optional part: no module of the hub outside
`ingest/lab/` imports it, not even lazily inside a function, so the hub ingests, builds,
checks and publishes real feeds without it. The CLI reaches the lab's commands only by
name (ingest.cli.COMMANDS) and says in one line what is missing when it cannot load them."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from ingest.cli import COMMANDS, LAB, main

PACKAGE = Path(__file__).parents[2] / "src" / "ingest"
LAB_PACKAGE = "ingest.lab"


def _is_lab(name: str) -> bool:
    return name == LAB_PACKAGE or name.startswith(LAB_PACKAGE + ".")


def lab_imports(source: str, package: str) -> list[str]:
    """`line: module` for each import of the lab, at any depth, in `source`: the text of a
    module of `package` (a dotted name, which relative imports start from)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0]
                base = f"{parent}.{base}" if base else parent
            # `from ingest import lab` imports the lab as a name of its parent
            names = [base] if _is_lab(base) else [f"{base}.{a.name}" for a in node.names]
        else:
            continue
        found += [f"{node.lineno}: {name}" for name in names if _is_lab(name)]
    return found


def test_no_module_of_the_hub_imports_the_lab() -> None:
    found = [
        f"{path.relative_to(PACKAGE)}:{hit}"
        for path in sorted(PACKAGE.rglob("*.py"))
        if not path.is_relative_to(PACKAGE / "lab")
        for hit in lab_imports(
            path.read_text(), ".".join(path.parent.relative_to(PACKAGE.parent).parts)
        )
    ]
    assert found == []


@pytest.mark.parametrize(
    "source",
    [
        "import ingest.lab.simulate",
        "from ingest.lab.demo import run_demo",
        "from ingest import lab",
        "from .. import lab",
        "from ..lab.feedserver import serve",
        "def later():\n    from ingest.lab.simulate import simulate\n",
    ],
)
def test_every_way_of_importing_the_lab_is_found(source: str) -> None:
    assert lab_imports(source, "ingest.commands") != []


@pytest.mark.parametrize(
    "source", ["import ingest.labels", "from ingest import paths", "from . import lab"]
)
def test_other_imports_are_not_taken_for_the_lab(source: str) -> None:
    # `from . import lab` in ingest.commands is ingest.commands.lab, not the lab
    assert lab_imports(source, "ingest.commands") == []


def test_the_lab_commands_are_the_ones_that_load_the_lab() -> None:
    assert {name for name, target in COMMANDS.items() if target.startswith(LAB_PACKAGE)} == LAB


@pytest.mark.parametrize("name", sorted(LAB))
def test_a_lab_command_without_the_lab_says_so_in_one_line(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = COMMANDS[name].split(":")[0]
    monkeypatch.setitem(sys.modules, module, None)  # what an install without it meets
    result = CliRunner().invoke(main, [name, "--some-option", "x"])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        f"Error: `peaceops {name}` needs the lab ({module} is missing): "
        "pip install 'peaceops-data-hub[lab]'"
    ]
    listing = CliRunner().invoke(main, ["--help"])
    assert listing.exit_code == 0
    assert "publish" in listing.output and "needs the lab" in listing.output
