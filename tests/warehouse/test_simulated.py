"""End to end on the simulator's scenario: simulate 14 days, ingest every feed through
the real pipeline, build the warehouse with dbt, and measure cross-agency resolution
against the simulator's ground truth (ingest.lab.simulate.score).

Floors: pairwise precision and recall of "these two reports are the same real incident
(delivery)" must stay above them, at the simulator's usual density (scale 1, 14 days;
measured 0.991/0.987 for incidents, 1.000/1.000 for deliveries) and ten times as dense
(scale 10, 4 days; measured 0.938/0.945 and 1.000/1.000): docs/resolution.md. The people
reached per admin1 and month must match the truth's.
"""

from __future__ import annotations

import filecmp
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import duckdb
import pytest

from ingest.lab.simulate import simulate
from ingest.lab.simulate.score import beneficiaries, resolution
from ingest.warehouse.runner import build, warehouse_path

from .logbuilder import REPO, ingest_simulation, project_registry

# (precision, recall) floors per entity, at scale 1 and at scale 10
FLOORS = {"incident": (0.97, 0.97), "delivery": (0.97, 0.97)}
DENSE_FLOORS = {"incident": (0.92, 0.92), "delivery": (0.95, 0.95)}
CARANA = REPO / "packs" / "carana"
T = TypeVar("T")


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("simulated")
    manifest = simulate(root / "sim", seed=7, days=14)
    ingest_simulation(root)
    result = build(root, registry=project_registry(root))
    return {"root": root, "manifest": manifest, "build": result}


@pytest.fixture(scope="module")
def dense(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("dense")
    simulate(root / "sim", seed=7, days=4, scale=10)
    ingest_simulation(root)
    result = build(root, registry=project_registry(root))
    assert result.ok, result.failures
    return {"root": root}


def test_committed_carana_pack_equals_the_simulators(tmp_path: Path) -> None:
    simulate(tmp_path / "sim", seed=7, days=1)
    generated = sorted(p.name for p in (tmp_path / "sim" / "gazetteer").iterdir())
    assert generated == sorted(p.name for p in CARANA.iterdir())
    for name in generated:
        assert filecmp.cmp(tmp_path / "sim" / "gazetteer" / name, CARANA / name, shallow=False), (
            f"packs/carana/{name} differs from the simulator's: copy sim/gazetteer again"
        )


def _score(simulated: dict, measure: Callable[[duckdb.DuckDBPyConnection, Path], T]) -> T:
    con = duckdb.connect(str(warehouse_path(simulated["root"])), read_only=True)
    try:
        return measure(con, simulated["root"] / "sim" / "truth")
    finally:
        con.close()


@pytest.mark.slow
def test_simulated_build_succeeds(simulated: dict) -> None:
    assert simulated["build"].ok, simulated["build"].failures


@pytest.mark.slow
@pytest.mark.parametrize("entity", ["incident", "delivery"])
@pytest.mark.parametrize("scenario", ["simulated", "dense"])
def test_resolution_precision_and_recall(
    request: pytest.FixtureRequest, scenario: str, entity: str
) -> None:
    floors = (FLOORS if scenario == "simulated" else DENSE_FLOORS)[entity]
    score = _score(
        request.getfixturevalue(scenario), lambda con, truth: resolution(con, truth, entity)
    )
    print(f"{entity} resolution, {scenario}: {score}")
    assert score.true_pairs > 0
    assert score.precision >= floors[0]
    assert score.recall >= floors[1]


@pytest.mark.slow
def test_beneficiaries_per_admin1_and_month_match_the_truth(simulated: dict) -> None:
    """One count per real delivery: a distribution both FAP and the 3W report is counted
    once, so the people reached add up to the truth's (within 2 % per admin1 and month:
    corrections and unreadable figures move a few)."""
    cells = _score(simulated, beneficiaries)
    assert len(cells) >= 5
    worst = max(cells, key=lambda c: abs(c.error))
    print(f"worst admin1-month: {worst} ({worst.error:+.2%})")
    assert sum(c.warehouse for c in cells) == pytest.approx(sum(c.truth for c in cells), rel=0.01)
    assert abs(worst.error) <= 0.02, worst


@pytest.mark.slow
def test_near_ties_are_listed_for_review(dense: dict) -> None:
    """Where a report has two candidates of one other feed almost as likely (within the
    review margin), each is listed with what the rule decided (costs to 3 decimals)."""
    con = duckdb.connect(str(warehouse_path(dense["root"])), read_only=True)
    try:
        ties = con.sql(
            "SELECT record_key, split_part(candidate_key, ':', 1) AS feed, "
            "count(*) AS candidates, max(cost) - min(cost) AS spread, "
            "count(*) FILTER (WHERE is_resolved_together) AS together "
            "FROM review.review_resolution_pairs WHERE entity = 'incident' GROUP BY ALL"
        ).fetchall()
    finally:
        con.close()
    assert len(ties) >= 20
    assert all(
        candidates >= 2 and spread < 1.001 and together <= 1
        for _, _, candidates, spread, together in ties
    )
