"""The gate on small warehouses: a good one passes, broken rows are named and block it."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from ingest.gate import GateResult, run_gate
from ingest.gate.runner import mart_frames
from ingest.gate.summary import format_summary
from ingest.settings import Settings
from ingest.warehouse.sharing import published_marts

from .factory import inject, make_warehouse, vocabulary


def _wh(root: Path) -> Path:
    return root / "warehouse" / "build.duckdb"


def _failed(result: GateResult) -> set[tuple[str, str | None, str]]:
    return {(f.suite, f.column, f.expectation) for f in result.failures}


def test_good_warehouse_passes(tmp_path: Path) -> None:
    make_warehouse(_wh(tmp_path))
    result = run_gate(tmp_path)
    assert result.passed, format_summary(result)
    assert set(result.stats) >= {"fct_incidents", "reconciliation", "row_counts"}
    assert result.row_counts["fct_incidents"] == 8
    assert result.data_docs is not None and result.data_docs.exists()
    assert tmp_path in result.data_docs.parents  # never into the repository
    again = GateResult.from_dict(json.loads(result.to_json()))
    assert again.passed and again.row_counts == result.row_counts


def test_bad_rows_are_named_with_counts_and_examples(tmp_path: Path) -> None:
    make_warehouse(_wh(tmp_path), bad=("unknown_code", "outside_country", "future_time"))
    result = run_gate(tmp_path, data_docs=False)
    assert not result.passed
    failed = _failed(result)
    assert ("fct_incidents", "incident_sub_type", "expect_column_values_to_be_in_set") in failed
    assert ("fct_aid_deliveries", "latitude", "expect_column_values_to_be_between") in failed
    assert ("fct_patrols", "started_at", "expect_column_values_to_be_between") in failed
    code = next(f for f in result.failures if f.column == "incident_sub_type")
    assert code.unexpected_count == 2 and code.examples == ["Alien invasion"]
    text = format_summary(result)
    assert "marts.fct_aid_deliveries.latitude" in text and "48.85" in text


def test_batches_add_up_exactly(tmp_path: Path) -> None:
    make_warehouse(_wh(tmp_path), rows=40, bad=("unknown_code",))
    config = replace(Settings.resolve().gate, batch_rows=7)
    result = run_gate(tmp_path, config=config, data_docs=False)
    assert result.stats["fct_incidents"].batches == 6
    codes = [f for f in result.failures if f.expectation == "expect_column_values_to_be_in_set"]
    assert [(f.suite, f.column, f.unexpected_count, f.element_count) for f in codes] == [
        ("fct_incidents", "incident_sub_type", 2, 40)
    ]
    # read as one stream: nothing is written aside
    assert not (tmp_path / "gate" / "scratch").exists()


@pytest.mark.parametrize(
    ("rows", "batch_rows", "sizes"),
    [(300_000, 250_000, [250_000, 50_000]), (245_760, 122_880, [122_880, 122_880]), (0, 5, [0])],
)
def test_a_mart_is_validated_in_frames_of_batch_rows(
    rows: int, batch_rows: int, sizes: list[int]
) -> None:
    """DuckDB streams at most a row group (122,880 rows) per Arrow batch; GX is given
    frames of batch_rows, each row once, in the order read."""
    con = duckdb.connect()
    con.execute(f"CREATE TABLE m AS SELECT range AS n FROM range({rows})")
    frames = list(mart_frames(con, "m", ["n"], [], batch_rows))
    assert [len(f) for f in frames] == sizes
    assert [n for f in frames for n in f["n"]] == list(range(rows))


def test_codes_within_vocabulary_and_no_check_of_dbt_again(tmp_path: Path) -> None:
    """Not-null, accepted values and a code's relationships test to its vocabulary's own
    model or seed are dbt tests a build passed: the gate leaves them."""

    def alien(column: str) -> Any:
        return lambda i: "Alien invasion" if i == 3 else vocabulary(column)[0]

    make_warehouse(
        _wh(tmp_path),
        overrides={
            # incident_type: dbt's relationships test to the seed acled_event_types
            "fct_incidents": {
                "incident_type": alien("incident_type"),
                "incident_sub_type": alien("incident_sub_type"),
            },
            "fct_patrols": {"releasability": lambda i: None if i == 0 else "mission"},
        },
    )
    result = run_gate(tmp_path, data_docs=False)
    assert _failed(result) == {
        ("fct_incidents", "incident_sub_type", "expect_column_values_to_be_in_set")
    }


def test_unstaged_events_hold_their_feed_back_and_a_broken_log_fails(tmp_path: Path) -> None:
    make_warehouse(_wh(tmp_path))
    con = duckdb.connect(str(_wh(tmp_path)))
    con.execute(
        "INSERT INTO eventlog.events_data VALUES ('ev-lost', 'test.inc', TIMESTAMPTZ '2026-10-02')"
    )
    con.close()
    result = run_gate(tmp_path, data_docs=False)
    failed = _failed(result)
    # the feed whose event no fact or exclusion accounts for is held back, alone...
    assert result.held_back == {
        "test.inc": "1 of 10 events are neither in a fact nor listed as excluded "
        "(staging did not read them)"
    }
    assert ("reconciliation", "events_unaccounted", "expect_column_values_to_be_between") not in (
        failed
    )
    # ...but an event the log holds and no load appended is the log's fault: it fails
    assert ("reconciliation", "appended_not_committed", "expect_column_values_to_be_between") in (
        failed
    )


def test_a_fact_naming_an_event_the_log_does_not_hold_fails_and_counts_for_no_feed(
    tmp_path: Path,
) -> None:
    make_warehouse(_wh(tmp_path))
    before = {f["feed_id"]: f for f in run_gate(tmp_path, data_docs=False).feeds}
    con = duckdb.connect(str(_wh(tmp_path)))
    con.execute(
        "UPDATE marts.fct_incidents SET source_event_ids = list_append(source_event_ids, "
        "'ev-ghost') WHERE incident_id = (SELECT min(incident_id) FROM marts.fct_incidents)"
    )
    con.close()
    result = run_gate(tmp_path, data_docs=False)
    assert _failed(result) == {
        ("reconciliation", "fact_events_not_committed", "expect_column_values_to_be_between")
    }
    after = {f["feed_id"]: f for f in result.feeds}
    assert {f: row["fact_events_not_committed"] for f, row in after.items()} == dict.fromkeys(
        before, 1
    )
    # the feeds' own counts are as they were
    drop = "fact_events_not_committed"
    assert {f: {k: v for k, v in row.items() if k != drop} for f, row in after.items()} == {
        f: {k: v for k, v in row.items() if k != drop} for f, row in before.items()
    }


def test_a_raw_feed_and_one_gone_from_the_registry_are_held_back_not_failed(
    tmp_path: Path,
) -> None:
    make_warehouse(_wh(tmp_path))
    con = duckdb.connect(str(_wh(tmp_path)))
    con.execute(
        "INSERT INTO registry.feeds (feed_id, agency_id, entity) VALUES ('x.raw', 'x', 'none')"
    )
    for feed_id in ("x.raw", "gone.feed"):
        con.execute(
            f"INSERT INTO eventlog.events_data VALUES ('ev-{feed_id}', '{feed_id}', TIMESTAMPTZ '2026-10-02')"
        )
        con.execute(
            f"INSERT INTO eventlog.loads VALUES ('l-{feed_id}', '{feed_id}', 'load', "
            "TIMESTAMPTZ '2026-10-02', TIMESTAMPTZ '2026-10-02', TIMESTAMPTZ '2026-10-02', "
            "1, 1, 0, 0, 1, NULL)"
        )
    con.close()
    result = run_gate(tmp_path, data_docs=False)
    assert result.passed, [f.describe() for f in result.failures]
    assert result.held_back == {
        "gone.feed": "in the event log but not in feeds.yaml",
        "x.raw": "raw feed (entity none): kept in the log and the catalogue only",
    }
    assert {f["feed_id"] for f in result.feeds} >= {"x.raw", "gone.feed", "test.inc"}


def test_row_count_change_against_the_published_manifest(tmp_path: Path) -> None:
    make_warehouse(_wh(tmp_path))
    version = tmp_path / "published" / "20260101T000000.000000Z"
    version.mkdir(parents=True)
    (version / "manifest.json").write_text(
        json.dumps({"warehouse_row_counts": {"fct_incidents": 800, "fct_patrols": 8}})
    )
    (tmp_path / "published" / "current").symlink_to(version.name)
    result = run_gate(tmp_path, data_docs=False)
    rows = [f for f in result.failures if f.suite == "row_counts"]
    assert len(rows) == 1 and rows[0].examples == ["fct_incidents: 800 -> 8 rows"]


def test_missing_mart_fails_with_reason(tmp_path: Path) -> None:
    make_warehouse(_wh(tmp_path))
    con = duckdb.connect(str(_wh(tmp_path)))
    con.execute("DROP TABLE marts.coordination_duplication")
    con.close()
    result = run_gate(tmp_path, data_docs=False)
    assert not result.passed
    assert any(
        f.suite == "coordination_duplication" and "missing" in (f.message or "")
        for f in result.failures
    )


def test_no_warehouse_fails(tmp_path: Path) -> None:
    result = run_gate(tmp_path)
    assert not result.passed and "no file" in result.failures[0].describe()


@pytest.mark.parametrize("kind", ["unknown_code", "outside_country", "future_time"])
def test_check_command_exits_1(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str) -> None:
    from click.testing import CliRunner

    from ingest.cli import main

    make_warehouse(_wh(tmp_path), bad=(kind,))
    monkeypatch.setenv("PEACEOPS_DATA_DIR", str(tmp_path))
    out = CliRunner().invoke(main, ["check", "--no-docs"])
    assert out.exit_code == 1, out.output
    assert "gate FAILED" in out.output


def _built_incrementally(path: Path) -> None:
    """Record in the warehouse that an incremental build made it, compared with a full
    refresh equal to it (as ingest.warehouse.runner.build records both)."""
    from ingest.warehouse import verification
    from ingest.warehouse.runner import INCREMENTAL, BuildState, write_state

    at = datetime.now(UTC)
    con = duckdb.connect(str(path))
    try:
        write_state(con, BuildState("b1", at, INCREMENTAL, "fingerprint", None, at, True))
        contents = verification.mart_contents(con)
        verification.write(con, "b1", at, contents, contents)
    finally:
        con.close()


def test_a_pass_carries_over_while_its_columns_are_unchanged_and_it_is_recent(
    tmp_path: Path,
) -> None:
    """The rules of ingest.gate.carry on a small warehouse; tests/gate/test_carry_over.py
    runs them after a real incremental build."""
    wh = make_warehouse(_wh(tmp_path))
    _built_incrementally(wh)
    now = datetime.now(UTC)
    marts = {spec.name for spec in published_marts()}

    def gate(hours: float) -> GateResult:
        result = run_gate(tmp_path, now=now + timedelta(hours=hours), data_docs=False)
        assert result.scope == "changed" or "no record" in str(result.scope_reason)
        return result

    assert not gate(0).carried_over  # nothing recorded yet: everything validated
    assert set(gate(1).carried_over) == marts
    later = gate(25)  # older than recheck_hours: validated again, and passed again
    assert not later.carried_over and later.passed
    assert {s.reason for n, s in later.stats.items() if n in marts} == {
        "the earlier pass is older than 24 h"
    }
    assert not gate(2).carried_over  # that pass was checked at a later `now`
    assert set(gate(3).carried_over) == marts

    con = duckdb.connect(str(wh))
    try:
        inject(con, "outside_country")  # a mart no build changed, changed under the gate
    finally:
        con.close()
    broken = gate(4)
    assert not broken.passed
    assert set(broken.carried_over) == marts - {"fct_aid_deliveries"}
    assert {f.suite for f in broken.failures} == {"fct_aid_deliveries"}
    assert not gate(5).passed  # a failed mart has no pass to carry
