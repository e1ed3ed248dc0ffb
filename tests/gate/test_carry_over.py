"""The gate after an incremental build validates what the build changed and carries the
other marts' passes over, on a real dbt build: recorded as such, never hiding a failure,
and everything is validated when the gate cannot tell what changed (ingest.gate.carry)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from ingest.gate import GateResult, run_gate
from ingest.gate.carry import CONTENT_CHANGED, record_path
from ingest.gate.summary import format_summary
from ingest.publish.writer import publish
from ingest.sessions import connect
from ingest.warehouse.runner import INCREMENTAL, build, built_state, warehouse_path
from ingest.warehouse.verification import Content, mart_contents

from ..warehouse.logbuilder import project_registry, simulate_late

pytestmark = pytest.mark.slow

LATE = "moi.incidents"  # its last file comes in a second load: the increment is its incidents


def _contents(root: Path) -> dict[str, object]:
    con = connect(warehouse_path(root), read_only=True)
    try:
        return dict(mart_contents(con))
    finally:
        con.close()


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, GateResult, set[str]]:
    """A full build and its gate, then one feed's late incidents built incrementally: the
    data directory, the first gate and the marts whose rows the increment changed."""
    base = tmp_path_factory.mktemp("carry")
    root = base / "data"
    deliver = simulate_late(root, LATE, base)
    assert build(root, registry=project_registry(root)).ok
    first = run_gate(root, data_docs=False)
    assert first.passed and first.scope == "all", format_summary(first)
    before = _contents(root)
    deliver()
    second = build(root, registry=project_registry(root))
    assert second.ok, second.failures
    state = built_state(warehouse_path(root))
    assert state is not None and state.mode == INCREMENTAL
    after = _contents(root)
    return root, first, {m for m in after if after[m] != before.get(m)}


def _copy(built: tuple[Path, GateResult, set[str]], tmp_path: Path) -> Path:
    root = tmp_path / "data"
    shutil.copytree(built[0], root, symlinks=True)
    return root


def _marts(result: GateResult) -> set[str]:
    return {n for n, s in result.stats.items() if s.relation and s.relation.startswith("marts.")}


def test_an_incremental_build_revalidates_the_marts_it_changed_and_carries_the_others(
    built: tuple[Path, GateResult, set[str]], tmp_path: Path
) -> None:
    root = _copy(built, tmp_path)
    _, first, changed = built
    assert "fct_incidents" in changed and "fct_patrols" not in changed

    gate = run_gate(root, data_docs=False)
    assert gate.passed, format_summary(gate)
    assert gate.scope == "changed"
    # each mart's rows and hash of all its columns, read in the scan of its checked
    # columns, are the build's own: publish takes them instead of reading the marts again
    assert {m: Content(*c) for m, c in gate.contents.items()} == _contents(root)
    carried = set(gate.carried_over)
    validated = {n for n, s in gate.stats.items() if s.carried_from is None}
    # every suite is accounted for, and the whole-table ones always run
    assert carried | validated == set(gate.stats) and not carried & validated
    assert {"reconciliation", "row_counts"} <= validated
    # the marts whose rows changed are validated; a mart whose rows did not is carried
    assert {"fct_incidents", "fct_incident_history"} <= validated
    assert validated & _marts(gate) <= changed
    assert _marts(gate) - changed <= carried
    assert {"fct_patrols", "fct_aid_deliveries", "coordination_deconfliction"} <= carried
    # of a changed mart, only the rows unlike any that passed are checked
    history = gate.stats["fct_incident_history"]
    assert history.rows_checked is not None and 0 < history.rows_checked < history.rows / 2
    assert history.reason and history.reason.startswith(CONTENT_CHANGED)
    for name in carried:
        stats = gate.stats[name]
        assert stats.batches == 0 and stats.reason
        assert stats.carried_from == {"checked_at": first.checked_at, "build_id": first.build_id}
    for name in validated & _marts(gate):
        stats = gate.stats[name]
        assert stats.reason and (stats.batches >= 1 or not stats.expectations)  # read, if any
    text = format_summary(gate)
    assert f"carried over: pass of {first.checked_at}" in text
    assert f"({len(validated)} validated, {len(carried)} carried over)" in text

    # the published manifest says what was validated and what carried over
    version = publish(root, gate)
    summary = json.loads((version / "manifest.json").read_text())["gate"]
    assert summary["scope"] == "changed"
    assert set(summary["carried_over"]) == carried and set(summary["validated"]) == validated

    # a pass on rows carried over still counts its age from when every row was checked
    passes = json.loads(record_path(root).read_text())["passes"]
    assert passes["fct_incident_history"]["whole_checked_at"] == first.checked_at
    assert passes["fct_incident_history"]["checked_at"] == gate.checked_at

    # the same warehouse again: the marts just validated carry their new pass
    again = run_gate(root, data_docs=False)
    assert set(again.carried_over) == _marts(gate)
    assert again.stats["fct_incidents"].carried_from == {
        "checked_at": gate.checked_at,
        "build_id": gate.build_id,
    }


def test_a_bad_row_fails_the_gate_in_a_changed_mart_and_in_an_unchanged_one(
    built: tuple[Path, GateResult, set[str]], tmp_path: Path
) -> None:
    root = _copy(built, tmp_path)
    con = connect(warehouse_path(root))
    try:
        con.execute(  # in the mart the increment changed
            "UPDATE marts.fct_incidents SET incident_sub_type = 'Alien invasion' "
            "WHERE incident_id = (SELECT min(incident_id) FROM marts.fct_incidents)"
        )
        con.execute(  # in one it did not: its pass must not carry over
            "UPDATE marts.fct_patrols SET started_at = now() + INTERVAL 400 DAY "
            "WHERE patrol_id = (SELECT min(patrol_id) FROM marts.fct_patrols)"
        )
    finally:
        con.close()
    gate = run_gate(root, data_docs=False)
    assert not gate.passed and gate.scope == "changed"
    failed = {(f.suite, f.column, f.unexpected_count) for f in gate.failures}
    assert failed == {("fct_incidents", "incident_sub_type", 1), ("fct_patrols", "started_at", 1)}
    assert "fct_incidents" not in gate.carried_over and "fct_patrols" not in gate.carried_over
    # of the unchanged one, only the bad row was unlike the rows that passed
    assert gate.stats["fct_patrols"].rows_checked == 1
    assert str(gate.stats["fct_patrols"].reason).startswith(CONTENT_CHANGED)
    # a failed mart has no pass to carry: the next run validates it again
    passes = json.loads(record_path(root).read_text())["passes"]
    assert "fct_incidents" not in passes and "fct_patrols" not in passes
    assert not run_gate(root, data_docs=False).passed


def test_without_a_readable_record_of_passes_everything_is_validated(
    built: tuple[Path, GateResult, set[str]], tmp_path: Path
) -> None:
    root = _copy(built, tmp_path)
    record = record_path(root)
    for damage, reason in (
        (lambda: record.unlink(), "no record of earlier passes"),
        (lambda: record.write_text('{"format": 1, "passes": {"fct_incidents": {'), "unreadable"),
        (lambda: record.write_text('{"format": 1, "passes": [1]}'), "unreadable"),
        (lambda: record.write_text('{"format": 0, "passes": {}}'), "of another format"),
        (lambda: None, "peaceops check --all"),
    ):
        damage()
        gate = run_gate(root, data_docs=False, whole=reason == "peaceops check --all")
        assert gate.passed, format_summary(gate)
        assert gate.scope == "all" and reason in str(gate.scope_reason), gate.scope_reason
        assert not gate.carried_over
        assert all(s.carried_from is None for s in gate.stats.values())
        assert all(s.batches >= 1 for n, s in gate.stats.items() if s.expectations)
        # the run records what it passed, for the next one
        assert set(json.loads(record.read_text())["passes"]) == _marts(gate)


def test_rows_carry_over_only_while_a_whole_pass_would() -> None:
    """A pass's age counts from when every row was checked; its rows carry over only when
    nothing but the content changed."""
    from datetime import UTC, datetime, timedelta

    from ingest.gate.carry import Pass, carried

    now = datetime(2026, 12, 4, 12, tzinfo=UTC)
    hour = timedelta(hours=1)
    earlier = Pass("k", "c1", (now - hour).isoformat(), "b1", (now - 30 * hour).isoformat())
    assert carried(earlier, Pass("k", "c2", now.isoformat(), "b2"), now, 48) == CONTENT_CHANGED
    aged = carried(earlier, Pass("k", "c2", now.isoformat(), "b2"), now, 24)
    assert aged == "the earlier pass is older than 24 h"
    assert carried(earlier, Pass("k", "c1", now.isoformat(), "b2"), now, 24) == aged
    later = carried(earlier, Pass("k", "c2", now.isoformat(), "b2"), now - 2 * hour, 48)
    assert later == "the earlier pass was checked at a later moment"
