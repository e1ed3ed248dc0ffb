"""End to end on the simulator's scenario: simulate 14 days, ingest every feed through
the real pipeline, build the warehouse with dbt, and measure cross-agency resolution
against the simulator's ground truth.

Floors (measured on seed 7, 14 days; see the final report in the module docstring of
int_incidents_resolved.yml): pairwise precision and recall of "these two reports are the
same real incident" must stay above PRECISION_FLOOR and RECALL_FLOOR.
"""

from __future__ import annotations

import filecmp
from pathlib import Path

import duckdb
import pytest

from ingest.warehouse import build, warehouse_path

from .logbuilder import REPO, ingest_simulation, project_registry

simulate_mod = pytest.importorskip("ingest.simulate")

PRECISION_FLOOR = 0.80
RECALL_FLOOR = 0.70
CARANA = REPO / "packs" / "carana"


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("simulated")
    manifest = simulate_mod.simulate(root / "sim", seed=7, days=14)
    ingest_simulation(root)
    result = build(root, registry=project_registry(root))
    return {"root": root, "manifest": manifest, "build": result}


def test_committed_carana_pack_equals_the_simulators(tmp_path: Path) -> None:
    simulate_mod.simulate(tmp_path / "sim", seed=7, days=1)
    generated = sorted(p.name for p in (tmp_path / "sim" / "gazetteer").iterdir())
    assert generated == sorted(p.name for p in CARANA.iterdir())
    for name in generated:
        assert filecmp.cmp(tmp_path / "sim" / "gazetteer" / name, CARANA / name, shallow=False), (
            f"packs/carana/{name} differs from the simulator's: copy sim/gazetteer again"
        )


@pytest.mark.slow
def test_simulated_build_succeeds(simulated: dict) -> None:
    assert simulated["build"].ok, simulated["build"].failures


@pytest.mark.slow
def test_resolution_precision_and_recall(simulated: dict) -> None:
    root = simulated["root"]
    links = root / "sim" / "truth" / "report_links.parquet"
    con = duckdb.connect(str(warehouse_path(root)), read_only=True)
    try:
        con.execute(f"CREATE TEMP VIEW truth AS SELECT * FROM read_parquet('{links}')")
        precision, recall, predicted, actual = con.sql(
            """
            WITH predicted AS (
                SELECT r.record_key, r.incident_id, split_part(r.record_key, ':', 1) AS feed_id
                FROM intermediate.int_incidents_resolved AS r
            ),
            truth_keys AS (
                SELECT feed_id || ':' || record_id AS record_key, truth_id FROM truth
                WHERE truth_kind = 'incident'
            ),
            joined AS (
                SELECT p.record_key, p.feed_id, p.incident_id, t.truth_id
                FROM predicted AS p INNER JOIN truth_keys AS t USING (record_key)
            ),
            pairs AS (
                SELECT a.incident_id = b.incident_id AS same_predicted,
                       a.truth_id = b.truth_id AS same_truth
                FROM joined AS a INNER JOIN joined AS b
                  ON a.record_key < b.record_key AND a.feed_id <> b.feed_id
                WHERE a.incident_id = b.incident_id OR a.truth_id = b.truth_id
            )
            SELECT
                count(*) FILTER (WHERE same_predicted AND same_truth)
                    / nullif(count(*) FILTER (WHERE same_predicted), 0),
                count(*) FILTER (WHERE same_predicted AND same_truth)
                    / nullif(count(*) FILTER (WHERE same_truth), 0),
                count(*) FILTER (WHERE same_predicted),
                count(*) FILTER (WHERE same_truth)
            FROM pairs
            """
        ).fetchall()[0]
    finally:
        con.close()
    print(
        f"resolution: precision {precision:.3f} recall {recall:.3f} "
        f"({predicted} predicted pairs, {actual} true pairs)"
    )
    assert actual > 0
    assert precision >= PRECISION_FLOOR
    assert recall >= RECALL_FLOOR
