"""Who may see what: the releasability ladder, the audiences and each published mart's
sharing rules, read from the dbt project.

The ladder is declared once, in ingest.releasability. Every published mart is declared once, in its dbt YAML:
the exposure `published_dataset` (dbt_project/models/exposures.yml) lists the published
marts, and each mart's columns, tests and `config.meta` say the rest:

- model `config.meta.releasability`: every row's level when the mart has no
  `releasability` column (else that column says it per row);
- model `config.meta.coordinates`: [latitude, longitude] columns that must lie inside
  the country (the gate);
- column `config.meta.mission_only`: shared only at mission level;
- column `config.meta.content`: record content of a mart of aggregates
  (docs/need-to-know.md), null below the row's `content_releasability`;
- column `config.meta.mission_time`: a time or day between the mission's start and now
  (the gate);
- column `config.meta.vocabulary`: codes of a gate vocabulary (ingest.gate.marts);
- column `config.meta.hxl`: its HXL hashtag, and the mart is exported as HXL CSV;
- the key is the column with dbt's `unique` test;
- a column's dbt `relationships` tests (error severity, no `where`): the set dbt checks
  its values against (the gate leaves a vocabulary dbt checks, ingest.gate.suites).

dbt writes all of it to manifest.json (`dbt parse`, or any build), which is read here.
Not-null, unique and accepted values are dbt tests only: a build whose tests fail never
replaces the warehouse, so the gate does not check them again.
"""

from __future__ import annotations

import json
import re
import tempfile
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import duckdb

from ingest.releasability import FREE_TEXT

SCHEMA = "marts"
PACKAGE = "peaceops"
EXPOSURE = f"exposure.{PACKAGE}.published_dataset"


def mart_columns(
    con: duckdb.DuckDBPyConnection, database: str | None = None
) -> dict[str, list[tuple[str, str]]]:
    """(column, type) of every table of the marts schema (each a published mart) of
    `database` (default: the session's own), in column order."""
    out: dict[str, list[tuple[str, str]]] = {}
    for table, column, dtype in con.execute(
        "SELECT table_name, column_name, data_type FROM duckdb_columns() "
        "WHERE database_name = coalesce(?, current_database()) AND schema_name = ? "
        "ORDER BY table_name, column_index",
        [database, SCHEMA],
    ).fetchall():
        out.setdefault(table, []).append((column, dtype))
    return out


class ManifestError(RuntimeError):
    """dbt's manifest is missing, unreadable or declares no published mart."""


@dataclass(frozen=True)
class MartSpec:
    """A published mart: its key, its columns and the rules of its sharing and checks."""

    name: str
    key: str
    columns: tuple[str, ...]
    # timestamptz columns that must lie between the mission start and now
    times: tuple[str, ...] = ()
    # date columns with the same rule (cast to a timestamp for the check)
    dates: tuple[str, ...] = ()
    # (latitude, longitude) columns that must lie inside the country
    coordinates: tuple[str, str] | None = None
    # column -> name of its vocabulary (ingest.gate.marts.VOCABULARIES)
    vocab: dict[str, str] = field(default_factory=dict)
    mission_only: tuple[str, ...] = ()
    implicit_releasability: str | None = None
    content: tuple[str, ...] = ()
    hxl: dict[str, str] | None = None
    # column -> (model or seed, column) its values must be among: a relationships test
    # that fails the build
    related: dict[str, tuple[str, str]] = field(default_factory=dict)

    @property
    def has_releasability(self) -> bool:
        return "releasability" in self.columns

    @property
    def is_aggregate(self) -> bool:
        return "content_releasability" in self.columns

    @property
    def relation(self) -> str:
        return f"{SCHEMA}.{self.name}"

    def shared_columns(self, audience: str) -> list[str]:
        """The columns an audience may see: everything at mission level; below it,
        neither the declared mission-only columns nor any free-text-looking column."""
        if audience == "mission":
            return list(self.columns)
        return [c for c in self.columns if c not in self.mission_only and not FREE_TEXT.search(c)]


def _meta(entry: dict[str, Any]) -> dict[str, Any]:
    return {**(entry.get("meta") or {}), **((entry.get("config") or {}).get("meta") or {})}


def _tests_by_node(manifest: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The manifest's data tests grouped by the node they are attached to (one pass: a
    pass per mart made reading the published marts quadratic in the project's size)."""
    out: dict[str, list[dict[str, Any]]] = {}
    for node in manifest.get("nodes", {}).values():
        if node.get("resource_type") == "test" and node.get("attached_node"):
            out.setdefault(str(node["attached_node"]), []).append(node)
    return out


def _key(tests: list[dict[str, Any]], unique_id: str) -> str:
    keys = sorted(
        node["column_name"]
        for node in tests
        if (node.get("test_metadata") or {}).get("name") == "unique"
    )
    if len(keys) != 1:
        raise ManifestError(f"{unique_id} needs exactly one column with a unique test: {keys}")
    return keys[0]


def _related(tests: list[dict[str, Any]]) -> dict[str, tuple[str, str]]:
    """Column -> (model or seed, column) of the mart's relationships tests that fail a build
    (severity error, on every row)."""
    out = {}
    for node in tests:
        meta = node.get("test_metadata") or {}
        config = node.get("config") or {}
        if (
            meta.get("name") != "relationships"
            or str(config.get("severity", "error")).lower() != "error"
            or config.get("where")
            or not config.get("enabled", True)
        ):
            continue
        kwargs = meta.get("kwargs") or {}
        to = re.fullmatch(r"ref\(\s*['\"]([^'\"]+)['\"]\s*\)", str(kwargs.get("to", "")).strip())
        if to and node.get("column_name") and kwargs.get("field"):
            out[str(node["column_name"])] = (to.group(1), str(kwargs["field"]))
    return out


def mart_spec(manifest: dict[str, Any], unique_id: str, tests: list[dict[str, Any]]) -> MartSpec:
    """A published mart's rules from its model node in the manifest and its tests."""
    node = manifest["nodes"][unique_id]
    columns = {name: _meta(info) for name, info in (node.get("columns") or {}).items()}
    types = {name: str(info.get("data_type") or "") for name, info in node["columns"].items()}
    model = _meta(node)

    def flagged(flag: str) -> tuple[str, ...]:
        return tuple(c for c, meta in columns.items() if meta.get(flag))

    timed = flagged("mission_time")
    hxl = {c: str(m["hxl"]) for c, m in columns.items() if m.get("hxl")}
    coordinates = model.get("coordinates")
    return MartSpec(
        name=node["name"],
        key=_key(tests, unique_id),
        columns=tuple(columns),
        times=tuple(c for c in timed if types[c].lower() != "date"),
        dates=tuple(c for c in timed if types[c].lower() == "date"),
        coordinates=(coordinates[0], coordinates[1]) if coordinates else None,
        vocab={c: str(m["vocabulary"]) for c, m in columns.items() if m.get("vocabulary")},
        mission_only=flagged("mission_only"),
        implicit_releasability=model.get("releasability"),
        content=flagged("content"),
        hxl=hxl or None,
        related=_related(tests),
    )


def marts_from_manifest(manifest: dict[str, Any]) -> tuple[MartSpec, ...]:
    """Every published mart (the exposure `published_dataset`), in its declared order."""
    exposure = manifest.get("exposures", {}).get(EXPOSURE)
    if exposure is None:
        raise ManifestError(f"the manifest has no {EXPOSURE}")
    tests = _tests_by_node(manifest)
    ids = [f"model.{PACKAGE}.{ref['name']}" for ref in exposure.get("refs", [])]
    return tuple(mart_spec(manifest, i, tests.get(i, [])) for i in ids)


def read_manifest(target: Path) -> dict[str, Any]:
    path = Path(target) / "manifest.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise ManifestError(f"cannot read {path}: {err}") from err


def parse_project(workdir: Path) -> Path:
    """Run `dbt parse` in-process on the project; returns the target directory.

    `workdir` stands in for a data directory (ingest.warehouse.runner.run_dbt): the target
    path, logs and the (never created) warehouse file all live under it, so parsing
    touches nothing in the repository or in a real data directory.
    """
    from ingest.warehouse.runner import dbt_target_path, run_dbt

    run = run_dbt(["parse"], Path(workdir))
    target = dbt_target_path(Path(workdir))
    if not run.ok or not (target / "manifest.json").is_file():
        raise ManifestError("dbt parse failed: " + ("; ".join(run.failures) or "no manifest"))
    return target


@cache
def parsed_manifest() -> dict[str, Any]:
    """The project's manifest from a fresh `dbt parse`: seconds, so once per process
    (the marts' rules here, their words in ingest.publish.dictionary)."""
    with tempfile.TemporaryDirectory(prefix="peaceops-parse-") as tmp:
        return read_manifest(parse_project(Path(tmp)))


def published_marts(root: Path | None = None) -> tuple[MartSpec, ...]:
    """The published marts as the last build of `root` declared them (its dbt target), or,
    with no readable build manifest (none yet, or a build writing it now), as the dbt
    project declares them."""
    if root is not None:
        from ingest.warehouse.runner import dbt_target_path

        try:
            return marts_from_manifest(read_manifest(dbt_target_path(Path(root))))
        except ManifestError:
            pass
    return _project_marts()


@cache
def _project_marts() -> tuple[MartSpec, ...]:
    return marts_from_manifest(parsed_manifest())
