"""The real gate on a real dbt build of the simulator's scenario (slow)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.gate.summary import format_summary

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_real_build_passes_the_gate_and_publishes(tmp_path: Path) -> None:
    from ingest.gate import run_gate
    from ingest.lab.demo import ingest_simulation
    from ingest.lab.simulate import simulate
    from ingest.publish.reader import current_version
    from ingest.publish.writer import publish
    from ingest.warehouse.runner import build

    simulate(tmp_path / "sim", seed=7, days=14)
    results = ingest_simulation(tmp_path, REPO / "feeds.yaml")
    assert all(r.ok for r in results)
    built = build(tmp_path)
    assert built.ok, built.failures[:3]
    gate = run_gate(tmp_path)
    assert gate.stats["reconciliation"].failed == 0, format_summary(gate)
    # On its first real run this gate caught 0,0 ("null island") coordinates that
    # cpn.incidents sends for "unknown"; staging now falls back to the place name.
    assert gate.passed, format_summary(gate)
    version = publish(tmp_path, gate)
    assert current_version(tmp_path) == version.resolve()
