"""The analysts' table catalogue (`docs/analysts/catalogue.md`), generated from dbt's docs.

dbt already holds what each published mart means: the model and column descriptions
and declared types of the YAMLs under `dbt_project/models/marts/`, and the grain in
the model's `config.meta.grain`. `dbt parse` (or any build, or `dbt docs generate`)
writes them to `manifest.json`; `dbt docs generate` also writes `catalog.json` with
the types the warehouse reports. This module turns those artifacts into one
Markdown page per project, with which audiences get a mart, which of its rows and
which of its columns: the sharing rules the same manifest declares (`ingest.warehouse.sharing`,
what `ingest.publish.writer` applies).

The page must not depend on a particular build: no row counts, no timestamps, and
the declared (contract) type wins over the warehouse's, so the catalogue generated
from a bare `dbt parse` is the committed one (tests/analysts/test_catalogue.py).
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from ingest.releasability import AUDIENCES, FREE_TEXT
from ingest.settings import PROJECT_DIR
from ingest.warehouse.sharing import MartSpec, marts_from_manifest, parse_project

CATALOGUE = PROJECT_DIR / "docs" / "analysts" / "catalogue.md"
PACKAGE = "peaceops"
MARTS_PATH = "models/marts/"

# Sections of the page, in order: (title, name prefix or exact name, what they are).
SECTIONS: tuple[tuple[str, str, str], ...] = (
    (
        "Facts",
        "fct_",
        "What happened, one row per unified incident, aid delivery or patrol.",
    ),
    ("Dimensions", "dim_", "Agencies, places and days to join the facts to."),
    (
        "Coordination marts",
        "coordination_",
        "Answers to standing coordination questions, computed from the facts.",
    ),
    (
        "Data quality",
        "normalisation_issues",
        "What could not be normalised, so that nothing is dropped silently.",
    ),
)
MISSING = "_(no description in dbt)_"


class CatalogueError(RuntimeError):
    """The dbt artifacts are missing or could not be produced."""


# --------------------------------------------------------------------------- artifacts


def load_artifacts(target: Path) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """manifest.json (required) and catalog.json (if present) of a dbt target directory."""
    target = Path(target)
    manifest_file = target / "manifest.json"
    if not manifest_file.is_file():
        raise CatalogueError(f"no manifest.json in {target}: run dbt parse, build or docs generate")
    manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
    catalog_file = target / "catalog.json"
    catalog = (
        json.loads(catalog_file.read_text(encoding="utf-8")) if catalog_file.is_file() else None
    )
    return manifest, catalog


def generate(target: Path | None = None) -> str:
    """The catalogue's Markdown: from the artifacts in `target`, or from a fresh `dbt parse`."""
    return generate_with_gaps(target)[0]


def generate_with_gaps(target: Path | None = None) -> tuple[str, list[str]]:
    """(Markdown, marts and columns without a description or grain): see `generate`."""
    if target is not None:
        manifest, catalog = load_artifacts(target)
    else:
        with tempfile.TemporaryDirectory(prefix="peaceops-catalogue-") as tmp:
            manifest, catalog = load_artifacts(parse_project(Path(tmp)))
    return render(manifest, catalog), missing_descriptions(manifest)


def write(text: str, out: Path = CATALOGUE) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    return out


# --------------------------------------------------------------------------- model


def mart_nodes(manifest: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The models under models/marts/ of the project, by name."""
    return {
        node["name"]: node
        for node in manifest.get("nodes", {}).values()
        if node.get("resource_type") == "model"
        and node.get("package_name") == PACKAGE
        and node.get("original_file_path", "").startswith(MARTS_PATH)
    }


def _meta(node: dict[str, Any], key: str) -> str | None:
    meta = {**(node.get("meta") or {}), **((node.get("config") or {}).get("meta") or {})}
    value = meta.get(key)
    return str(value) if value else None


def grain(node: dict[str, Any]) -> str | None:
    return _meta(node, "grain")


def example(node: dict[str, Any]) -> str | None:
    """An example query of the mart (`config.meta.example`), shown as it is written."""
    return _meta(node, "example")


def column_type(node: dict[str, Any], column: str, catalog: dict[str, Any] | None) -> str:
    declared = (node.get("columns", {}).get(column) or {}).get("data_type")
    if declared:
        return str(declared).lower()
    if catalog:
        entry = catalog.get("nodes", {}).get(node["unique_id"], {})
        for name, col in (entry.get("columns") or {}).items():
            if name.lower() == column.lower() and col.get("type"):
                return str(col["type"]).lower()
    return ""


def audience_rows(spec: MartSpec, audience: str) -> str | None:
    """Which rows of the mart an audience gets, in words; None when it gets none."""
    allowed = AUDIENCES[audience]
    if spec.has_releasability:
        levels = [f"`{v}`" for v in allowed]
        words = levels[0] if len(levels) == 1 else ", ".join(levels[:-1]) + " or " + levels[-1]
        return f"rows with releasability {words}"
    if spec.implicit_releasability in allowed:
        return "all rows"
    return None


def withheld(spec: MartSpec, audience: str) -> list[str]:
    shared = set(spec.shared_columns(audience))
    return [c for c in spec.columns if c not in shared]


def column_reason(spec: MartSpec, column: str) -> str:
    if column in spec.mission_only:
        return "mission only"
    if FREE_TEXT.search(column):
        return "mission only (free text)"
    if spec.is_aggregate and (column in spec.content or column == "content_releasability"):
        return "audiences at or above content_releasability (null below)"
    return "all audiences"


# --------------------------------------------------------------------------- rendering


def _cell(text: str | None) -> str:
    text = " ".join((text or "").split())
    return text.replace("|", "\\|")


def _names(items: list[str]) -> str:
    return ", ".join(f"`{i}`" for i in items)


def _upstream(node: dict[str, Any]) -> str:
    """`model.peaceops.x` -> model `x`; `source.peaceops.eventlog.loads` -> source `eventlog.loads`."""
    parts = []
    for uid in sorted((node.get("depends_on") or {}).get("nodes") or []):
        resource, _package, name = uid.split(".", 2)
        parts.append(f"{resource} `{name}`")
    return ", ".join(parts)


def sort_key(name: str, order: list[str]) -> tuple[int, int, str]:
    """Section, then the order of the published dataset's exposure (facts: incidents
    first), then name."""
    return (section_of(name), order.index(name) if name in order else len(order), name)


def section_of(name: str) -> int:
    for i, (_, prefix, _) in enumerate(SECTIONS):
        if name == prefix or (prefix.endswith("_") and name.startswith(prefix)):
            return i
    return len(SECTIONS)


def render(manifest: dict[str, Any], catalog: dict[str, Any] | None = None) -> str:
    nodes = mart_nodes(manifest)
    if not nodes:
        raise CatalogueError("the manifest has no models under models/marts/")
    specs = {m.name: m for m in marts_from_manifest(manifest)}
    ordered = sorted(nodes, key=lambda name: sort_key(name, list(specs)))
    audiences = list(AUDIENCES)
    out: list[str] = [
        "# Table catalogue",
        "",
        "<!-- Generated by `peaceops catalogue` (src/ingest/serve/catalogue.py) from dbt's",
        "     manifest.json: edit the YAMLs under dbt_project/models/marts/, then regenerate. -->",
        "",
        "Every table of the published dataset (`published/current/<audience>/unified.duckdb`,",
        "schema `main`; the same tables as `parquet/<table>.parquet`). What each table means,",
        "its grain (what one row is), who gets it and its columns come from the dbt project",
        "(descriptions, declared types, `config.meta.grain`, and the publishing rules in",
        "`config.meta` that `src/ingest/warehouse/sharing.py` reads). How to connect and what",
        "releasability and lineage mean: [Using the unified dataset](README.md); worked",
        "examples: [questions/](questions/).",
        "",
        "Audiences: `public` < `partners` < `mission`. An audience gets the rows whose",
        "`releasability` is at or below its level (`restricted` rows are never published) and,",
        "below `mission`, neither free-text columns nor columns declared mission-only.",
        "",
        "| table | grain | public | partners | mission |",
        "|---|---|---|---|---|",
    ]
    for name in ordered:
        spec = specs.get(name)
        marks = []
        for audience in audiences:
            if spec is None:
                marks.append("—")
                continue
            rows = audience_rows(spec, audience)
            if rows is None:
                marks.append("—")
            elif withheld(spec, audience):
                marks.append("yes, fewer columns")
            else:
                marks.append("yes")
        out.append(
            f"| [`{name}`](#{name}) | {_cell(grain(nodes[name]) or '?')} | "
            + " | ".join(marks)
            + " |"
        )
    current_section = None
    for name in ordered:
        index = section_of(name)
        if index != current_section:
            current_section = index
            title, _, blurb = SECTIONS[index] if index < len(SECTIONS) else ("Other marts", "", "")
            out += ["", f"## {title}", ""]
            if blurb:
                out += [blurb]
        out += _render_mart(nodes[name], specs.get(name), catalog, audiences)
    return "\n".join(out).rstrip() + "\n"


def _render_mart(
    node: dict[str, Any],
    spec: MartSpec | None,
    catalog: dict[str, Any] | None,
    audiences: list[str],
) -> list[str]:
    name = node["name"]
    out = ["", f"### {name}", "", _cell(node.get("description")) or MISSING, ""]
    out.append(f"- **Grain:** {_cell(grain(node)) or '_(not declared: add config.meta.grain)_'}")
    if spec is not None:
        out.append(f"- **Key:** `{spec.key}` (unique, not null)")
        out.append("- **Audiences:**")
        for audience in audiences:
            rows = audience_rows(spec, audience)
            if rows is None:
                out.append(f"  - `{audience}`: not published")
                continue
            hidden = withheld(spec, audience)
            less = f"; without {_names(hidden)}" if hidden else "; every column"
            out.append(f"  - `{audience}`: {rows}{less}")
        files = f"`unified.duckdb` table `{name}`, `parquet/{name}.parquet`"
        if spec.hxl:
            files += f", `csv/{name}.csv` (HXL-tagged)"
        out.append(f"- **Files:** {files}")
    else:
        out.append("- **Audiences:** not published (not in the exposure `published_dataset`)")
    upstream = _upstream(node)
    out.append(f"- **dbt model:** `{node.get('original_file_path', '')}`")
    if upstream:
        out.append(f"- **Built from:** {upstream}")
    query = example(node)
    if query:
        out += ["", "Example:", "", "```sql", query.strip(), "```"]
    hxl = spec.hxl if spec is not None and spec.hxl else None
    header = "| column | type | description | shared with |"
    rule = "|---|---|---|---|"
    if hxl:
        header += " HXL |"
        rule += "---|"
    out += ["", header, rule]
    columns = list(node.get("columns") or {})
    for column in columns:
        info = node["columns"][column]
        shared = column_reason(spec, column) if spec is not None else "—"
        row = (
            f"| `{column}` | {_cell(column_type(node, column, catalog))} | "
            f"{_cell(info.get('description')) or MISSING} | {shared} |"
        )
        if hxl:
            row += f" {_cell(hxl.get(column, ''))} |"
        out.append(row)
    return out


def missing_descriptions(manifest: dict[str, Any]) -> list[str]:
    """`mart` or `mart.column` for every published mart or column without a description."""
    missing: list[str] = []
    for name, node in sorted(mart_nodes(manifest).items()):
        if not (node.get("description") or "").strip():
            missing.append(name)
        if not grain(node):
            missing.append(f"{name} (grain)")
        for column, info in (node.get("columns") or {}).items():
            if not (info.get("description") or "").strip():
                missing.append(f"{name}.{column}")
    return missing
