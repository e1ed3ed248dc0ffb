"""The committed GX context is exactly what the code generates, and the mart
declarations follow the mart YAMLs."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from ingest.gate.suites import ROW_LEVEL, generate
from ingest.settings import PROJECT_DIR as REPO
from ingest.settings import Settings
from ingest.warehouse.sharing import published_marts

from .factory import MARTS_DIR, country_bounds, mart_columns, vocabulary

EXPECTATIONS_DIR = Settings.resolve().expectations_dir


def _managed(root: Path) -> dict[str, str]:
    files = {"great_expectations.yml": (root / "great_expectations.yml").read_text()}
    for kind in ("expectations", "validation_definitions", "checkpoints"):
        for path in sorted((root / kind).glob("*.json")):
            files[f"{kind}/{path.name}"] = path.read_text()
    return files


def test_committed_json_equals_generated(tmp_path: Path) -> None:
    generate(tmp_path / "gx")
    committed = _managed(EXPECTATIONS_DIR)
    generated = _managed(tmp_path / "gx")
    assert sorted(committed) == sorted(generated), "run `peaceops check --write-suites`"
    for name, text in generated.items():
        assert committed[name] == text, f"{name} drifted: run `peaceops check --write-suites`"


def test_every_published_mart_has_a_suite_and_its_yaml_columns() -> None:
    ymls = {p.stem for p in MARTS_DIR.rglob("*.yml")}
    assert {m.name for m in published_marts()} == ymls
    for spec in published_marts():
        declared = [c for c, _ in mart_columns(spec.name)]
        assert list(spec.columns) == declared, spec.name
        assert (EXPECTATIONS_DIR / "expectations" / f"{spec.name}.json").exists()


def test_checks_come_from_the_warehouse_reference_data() -> None:
    bounds = country_bounds()
    assert (bounds["min_lon"], bounds["max_lon"]) == (20.0, 24.0)  # Carana's boundaries
    assert (bounds["min_lat"], bounds["max_lat"]) == (6.0, 10.0)
    assert "Battles" in vocabulary("incident_type")
    assert "CR0101" in vocabulary("admin2_pcode")
    assert "unmic" in vocabulary("agency_id")


def test_suites_hold_no_vocabulary_of_their_own() -> None:
    """Codes, p-codes and bounds are run-time parameters: a new agency, country pack or
    seed row needs no `--write-suites`."""
    for path in (EXPECTATIONS_DIR / "expectations").glob("*.json"):
        text = path.read_text()
        assert "CR0101" not in text and '"unmic"' not in text and "Battles" not in text, path


def test_gate_config_is_committed_and_readable() -> None:
    config = Settings.resolve().gate
    assert config.batch_rows > 0
    assert 0 < config.min_ratio < 1 < config.max_ratio


def test_expectations_dir_ignores_runtime_output() -> None:
    ignored = (REPO / ".gitignore").read_text()
    assert "expectations/uncommitted/" in ignored
    data = yaml.safe_load((EXPECTATIONS_DIR / "great_expectations.yml").read_text())
    assert data["analytics_enabled"] is False
    assert data["progress_bars"]["globally"] is False


def test_a_code_dbt_checks_against_its_vocabulary_is_not_checked_again() -> None:
    """A code column whose dbt relationships test reads its vocabulary's own set is dbt's
    (the build fails on it); every other code column is the gate's."""
    from ingest.gate.marts import DBT_CHECKED
    from ingest.gate.suites import suite_definitions

    expectations = {name: e for name, _, e in suite_definitions(Settings.resolve().gate)}
    left = 0
    for spec in published_marts():
        in_set = {e.column for e in expectations[spec.name] if "InSet" in type(e).__name__}
        for column, vocab in spec.vocab.items():
            dbt = DBT_CHECKED.get(vocab) == spec.related.get(column) is not None
            assert (column in in_set) != dbt, (spec.name, column)
            left += dbt
    assert left >= 10  # incident_type, cluster_code, agency_id and admin2_pcode tests


def test_every_expectation_of_a_mart_suite_is_about_one_row() -> None:
    """The gate validates a mart in batches as it reads them, and only rows unlike those
    that passed: an expectation across rows would be wrong on either."""
    for spec in published_marts():
        suite = json.loads((EXPECTATIONS_DIR / "expectations" / f"{spec.name}.json").read_text())
        assert {e["type"] for e in suite["expectations"]} <= ROW_LEVEL, spec.name
