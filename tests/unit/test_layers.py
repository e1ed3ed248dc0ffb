"""The package's layers, lowest first, and no import reaching up one (docs/architecture.md):
the ground floor (paths, sessions, sql, settings, ...), the log, feeds, the warehouse, the
gate, publish, serve, and on top the stages, the commands and the lab. An import inside a
function counts too: lazy is not the same as downward."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).parents[2] / "src"
LAYERS = ["ground", "log", "feeds", "warehouse", "gate", "publish", "serve", "top"]
GROUND = {"paths", "durable", "sessions", "sql", "releasability", "settings", "net", "errors"}
TOP = {"stages", "commands", "cli", "lab", "__main__"}

# The upward imports there are, each with why it stays; a new one fails the test.
ALLOWED = {
    # Settings parses a config file only when one of its settings is first asked for.
    ("ingest.settings", "ingest.feeds.registry"): "feeds.yaml, parsed on demand",
    ("ingest.settings", "ingest.gate.config"): "gate.yml, parsed on demand",
    # The gate compares row counts with the version analysts read now, through the one reader.
    ("ingest.gate.runner", "ingest.publish.reader"): "the published version's row counts",
    # The data dictionary is written from the same dbt descriptions the catalogue shows.
    ("ingest.publish.dictionary", "ingest.serve.catalogue"): "the marts' dbt descriptions",
}


def layer(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "ingest" or len(parts) == 1:
        return None
    if parts[1] in GROUND:
        return "ground"
    if parts[1] in TOP:
        return "top"
    return parts[1] if parts[1] in LAYERS else "unknown"


def imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def upward(source: Path) -> dict[tuple[str, str], str]:
    """Each import under `source` of a higher layer than its importer's: (importer,
    imported) -> the two layers."""
    found = {}
    for path in sorted(source.rglob("*.py")):
        module = ".".join(path.relative_to(source.parent).with_suffix("").parts)
        module = module.removesuffix(".__init__")
        mine = layer(module)
        for name in imports(path):
            theirs = layer(name)
            if mine and theirs and LAYERS.index(theirs) > LAYERS.index(mine):
                found[(module, name)] = f"{mine} -> {theirs}"
    return found


def test_every_module_is_in_a_layer() -> None:
    names = [p.stem for p in (SRC / "ingest").iterdir() if p.suffix in (".py", "")]
    unknown = [n for n in names if n != "__init__" and layer(f"ingest.{n}") == "unknown"]
    assert not unknown, f"add them to a layer in this test: {unknown}"


def test_no_module_imports_a_higher_layer() -> None:
    found = upward(SRC / "ingest")
    assert set(found) - set(ALLOWED) == set(), found
    # an allowance no longer needed goes too, so the list stays the truth
    assert set(ALLOWED) <= set(found), set(ALLOWED) - set(found)


def test_an_upward_import_is_found(tmp_path: Path) -> None:
    package = tmp_path / "ingest"
    (package / "log").mkdir(parents=True)
    (package / "log" / "store.py").write_text(
        "from ingest.sql import ident\n\n\ndef f():\n    from ingest.publish.writer import publish\n"
    )
    assert upward(package) == {("ingest.log.store", "ingest.publish.writer"): "log -> publish"}
