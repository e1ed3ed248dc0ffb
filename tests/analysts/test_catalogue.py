"""docs/analysts/catalogue.md is what `peaceops catalogue` generates from the dbt project.

The manifest comes from `dbt parse` run in-process into a temporary directory (no
warehouse is opened), so the test needs no build and takes ~15 s.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ingest.serve import catalogue
from ingest.warehouse.sharing import marts_from_manifest


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return catalogue.parse_project(tmp_path_factory.mktemp("catalogue"))


def test_committed_catalogue_is_up_to_date(target: Path) -> None:
    expected = catalogue.render(*catalogue.load_artifacts(target))
    committed = catalogue.CATALOGUE.read_text(encoding="utf-8")
    assert committed == expected, (
        "docs/analysts/catalogue.md is out of date: run `.venv/bin/peaceops catalogue`"
    )


def test_every_published_mart_is_described_with_its_grain(target: Path) -> None:
    manifest, _ = catalogue.load_artifacts(target)
    marts = marts_from_manifest(manifest)
    assert set(catalogue.mart_nodes(manifest)) == {m.name for m in marts}
    assert catalogue.missing_descriptions(manifest) == []
    text = catalogue.CATALOGUE.read_text(encoding="utf-8")
    for mart in marts:
        assert f"### {mart.name}" in text


def test_catalog_types_fill_in_undeclared_types(target: Path, tmp_path: Path) -> None:
    manifest, _ = catalogue.load_artifacts(target)
    node = manifest["nodes"]["model.peaceops.fct_incidents"]
    node["columns"]["fatalities"]["data_type"] = None
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    catalog = {
        "nodes": {"model.peaceops.fct_incidents": {"columns": {"FATALITIES": {"type": "INTEGER"}}}}
    }
    (tmp_path / "catalog.json").write_text(json.dumps(catalog))
    text = catalogue.generate(tmp_path)
    assert "| `fatalities` | integer |" in text


def test_mission_only_columns_are_marked() -> None:
    text = catalogue.CATALOGUE.read_text(encoding="utf-8")
    assert "| `patrol_unit` | varchar |" in text
    patrols = text.split("### fct_patrols", 1)[1].split("\n### ", 1)[0]
    assert (
        "`public`: rows with releasability `public`; without `patrol_unit`, `mgrs_ref`" in patrols
    )
