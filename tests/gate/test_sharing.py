"""Each published mart is declared once, in dbt: what the gate, publishing, the catalogue
and the dashboard read follows the manifest, and nothing else declares it again."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from ingest.gate.marts import VOCABULARIES
from ingest.releasability import AUDIENCES, RELEASABILITY
from ingest.serve import catalogue
from ingest.settings import PROJECT_DIR as REPO
from ingest.settings import Settings
from ingest.warehouse.sharing import ManifestError, marts_from_manifest, published_marts

EXPECTATIONS_DIR = Settings.resolve().expectations_dir

COLUMN_META = {"mission_only", "content", "mission_time", "vocabulary", "hxl"}
MODEL_META = {"grain", "example", "releasability", "coordinates"}
DASHBOARD = REPO / "src" / "ingest" / "serve" / "dashboard"


@pytest.fixture(scope="module")
def manifest(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return catalogue.load_artifacts(catalogue.parse_project(tmp_path_factory.mktemp("parse")))[0]


def _tests(manifest: dict[str, Any], model: str) -> dict[str, dict[str, Any]]:
    """`column:test` -> the test's kwargs, of the model's generic dbt tests."""
    out = {}
    for node in manifest["nodes"].values():
        meta = node.get("test_metadata") or {}
        if node.get("attached_node") == f"model.peaceops.{model}" and meta:
            out[f"{node.get('column_name')}:{meta['name']}"] = meta.get("kwargs") or {}
    return out


def test_every_mart_model_is_published_and_declares_its_rules_in_known_keys(
    manifest: dict[str, Any],
) -> None:
    marts = marts_from_manifest(manifest)
    assert {m.name for m in marts} == set(catalogue.mart_nodes(manifest))
    for spec in marts:
        node = manifest["nodes"][f"model.peaceops.{spec.name}"]
        assert set(node["config"]["meta"]) <= MODEL_META, spec.name
        for column, info in node["columns"].items():
            assert set(info["config"]["meta"]) <= COLUMN_META, (spec.name, column)
        assert set(spec.vocab.values()) <= set(VOCABULARIES), spec.name
        assert set(spec.coordinates or ()) <= set(spec.columns), spec.name
        assert not spec.content or spec.is_aggregate, spec.name  # content: aggregates only


def test_what_the_gate_no_longer_checks_is_a_dbt_test(manifest: dict[str, Any]) -> None:
    """The key is unique and not null and releasability is a level of the ladder, as dbt
    tests: the GX suites hold none of these checks (no check runs twice per build)."""
    for spec in marts_from_manifest(manifest):
        tests = _tests(manifest, spec.name)
        assert {f"{spec.key}:unique", f"{spec.key}:not_null"} <= set(tests), spec.name
        for column in ("releasability", "content_releasability"):
            if column in spec.columns:
                values = tests[f"{column}:accepted_values"]["values"]
                assert tuple(values) == RELEASABILITY, (spec.name, column)
        if spec.has_releasability:
            assert "releasability:not_null" in tests, spec.name
        suite = json.loads((EXPECTATIONS_DIR / "expectations" / f"{spec.name}.json").read_text())
        kinds = {e["type"] for e in suite["expectations"]}
        assert not kinds & {
            "expect_column_values_to_not_be_null",
            "expect_column_values_to_be_unique",
        }, spec.name
        for e in suite["expectations"]:
            # a fixed value set would be an accepted_values test: only run-time vocabularies
            assert "value_set" not in e["kwargs"] or "$PARAMETER" in e["kwargs"]["value_set"]


def test_the_gate_and_publishing_see_the_manifests_marts(manifest: dict[str, Any]) -> None:
    marts = marts_from_manifest(manifest)
    assert published_marts() == marts
    checkpoint = json.loads((EXPECTATIONS_DIR / "checkpoints" / "gate.json").read_text())
    suites = [vd["name"] for vd in checkpoint["validation_definitions"]]
    assert [s for s in suites if s not in ("reconciliation", "row_counts")] == [
        m.name for m in marts
    ]
    for spec in marts:
        suite = json.loads((EXPECTATIONS_DIR / "expectations" / f"{spec.name}.json").read_text())
        assert suite["meta"]["peaceops"]["relation"] == spec.relation
        assert suite["meta"]["peaceops"]["key"] == spec.key


def test_a_build_manifest_wins_and_a_broken_one_falls_back(tmp_path: Path) -> None:
    from ingest.warehouse.runner import dbt_target_path

    target = dbt_target_path(tmp_path)
    target.mkdir(parents=True)
    (target / "manifest.json").write_text("{ half written")
    assert published_marts(tmp_path) == published_marts()
    (target / "manifest.json").write_text(json.dumps({"exposures": {}}))
    with pytest.raises(ManifestError):
        marts_from_manifest(json.loads((target / "manifest.json").read_text()))


def test_the_dashboard_reads_only_what_its_exposure_declares(manifest: dict[str, Any]) -> None:
    exposure = manifest["exposures"]["exposure.peaceops.coordination_dashboard"]
    declared = {ref["name"] for ref in exposure["refs"]}
    published = {m.name for m in marts_from_manifest(manifest)}
    code = " ".join(p.read_text() for p in DASHBOARD.glob("*.py"))
    read = {name for name in published if re.search(rf"\b{name}\b", code)}
    assert read == declared


def test_audiences_follow_the_ladder() -> None:
    assert RELEASABILITY == ("public", "partners", "mission", "restricted")
    assert AUDIENCES == {
        "public": ("public",),
        "partners": ("public", "partners"),
        "mission": ("public", "partners", "mission"),
    }


def test_the_dashboard_lists_only_columns_its_marts_declare(manifest: dict[str, Any]) -> None:
    """The dashboard picks what it shows; each column it names is declared in the
    mart's dbt YAML, so a renamed or dropped column fails here, not on a page."""
    from ingest.serve.dashboard import queries

    picked = {
        "fct_incidents": queries.INCIDENT_COLUMNS,
        "fct_aid_deliveries": queries.DELIVERY_COLUMNS,
        "fct_patrols": queries.PATROL_COLUMNS,
    }
    declared = {m.name: set(m.columns) for m in marts_from_manifest(manifest)}
    assert {mart: sorted(set(cols) - declared[mart]) for mart, cols in picked.items()} == {
        mart: [] for mart in picked
    }


class _CountedNodes(dict):
    passes = 0

    def values(self):  # type: ignore[override]
        self.passes += 1
        return super().values()


def test_reading_the_marts_passes_over_the_manifests_nodes_once(manifest: dict[str, Any]) -> None:
    """Two passes per mart (its key, its relationships) made the test warehouse factory,
    which asks for the marts per value, take 194 s for 400 rows."""
    nodes = _CountedNodes(manifest["nodes"])
    marts = marts_from_manifest({**manifest, "nodes": nodes})
    assert marts == marts_from_manifest(manifest)
    assert nodes.passes == 1
    assert published_marts() is published_marts()  # the project's, parsed once per process
