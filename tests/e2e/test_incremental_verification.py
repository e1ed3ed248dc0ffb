"""Incremental equals full, checked by the gate: an incremental build compared with a full
refresh of the same log, with a divergence seeded into the warehouse it builds on, is
caught (the gate names the mart) and nothing is published."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.gate import run_gate
from ingest.publish.writer import GateNotPassed, publish
from ingest.sessions import connect
from ingest.warehouse.runner import build, warehouse_path
from ingest.warehouse.sharing import mart_columns
from ingest.warehouse.verification import OWN, divergences

from ..warehouse.logbuilder import project_registry, simulate_late

pytestmark = pytest.mark.slow

LATE = "moi.incidents"  # its last day comes in a second load: the increment touches no patrol


def test_a_divergence_from_a_full_refresh_is_caught_and_not_published(tmp_path: Path) -> None:
    root = tmp_path / "data"
    deliver = simulate_late(root, LATE, tmp_path)
    first = build(root, registry=project_registry(root))
    assert first.ok and not first.verified  # a full refresh is its own reference

    # a fault of an incremental build, seeded: a patrol shared more widely than it may be,
    # in a row the next increment does not revisit; every other check of the gate passes
    con = connect(warehouse_path(root))
    try:
        assert divergences(con) == []
        # counted, not hashed: a full refresh's figures are compared only with themselves
        own = con.execute(
            "SELECT mart, full_rows FROM state.verification "
            "WHERE incremental_hash = ? AND full_hash = ? AND incremental_rows = full_rows",
            [OWN, OWN],
        ).fetchall()
        patrols = con.execute("SELECT count(*) FROM marts.fct_patrols").fetchall()[0][0]
        assert len(own) == len(mart_columns(con)) and ("fct_patrols", patrols) in own
        con.execute(
            "UPDATE marts.fct_patrols SET releasability = 'public' WHERE patrol_id = "
            "(SELECT min(patrol_id) FROM marts.fct_patrols WHERE releasability <> 'public')"
        )
    finally:
        con.close()

    deliver()
    second = build(root, registry=project_registry(root), verify=True)
    assert second.ok and second.verified, second.failures
    gate = run_gate(root, data_docs=False)
    assert not gate.passed
    (failure,) = gate.failures
    assert failure.suite == "incremental_equals_full"
    assert failure.relation == "marts.fct_patrols"
    assert "other content than a full refresh" in failure.describe()
    assert "peaceops build --full-refresh" in failure.describe()
    with pytest.raises(GateNotPassed):
        publish(root, gate)
    assert not (root / "published" / "current").exists()
