"""review_resolution_pairs' incremental hooks (macros/review.sql) on a small warehouse: the
pairs of a changed report go (the model appends them again); a pair whose candidate alone
was re-resolved stays, with is_resolved_together looked up again. The incremental chain
(test_incremental.py) compares the whole table with a full refresh."""

from __future__ import annotations

from datetime import timedelta

from tests import dbt_macros

from .test_is_changed import MARK, warehouse

NEW, OLD = MARK + timedelta(hours=1), MARK - timedelta(hours=1)


def test_a_changed_report_s_pairs_go_and_a_changed_candidate_s_are_looked_up_again() -> None:
    # c changed (a new event): re-resolved into incident Y; r and s, t did not change
    con = warehouse(
        [("f:c", "c", True), ("f:r", "r", False)], "review_resolution_pairs", "incident"
    )
    con.execute(
        "create table int_incidents_resolved as select * from (values "
        f"('f:r', 'X', timestamptz '{OLD}'), ('f:c', 'Y', timestamptz '{NEW}'), "
        f"('f:s', 'Z', timestamptz '{OLD}'), ('f:t', 'Z', timestamptz '{OLD}')"
        ") as resolved (record_key, incident_id, resolved_at)"
    )
    con.execute(
        "create table int_deliveries_resolved "
        "(record_key varchar, delivery_id varchar, resolved_at timestamptz)"
    )
    con.execute(
        "create table review_resolution_pairs as select * from (values "
        "('incident', 'f:r', 'f:c', 1.0, true), ('incident', 'f:c', 'f:r', 1.0, true), "
        "('incident', 'f:s', 'f:t', 2.0, true)"
        ") as pairs (entity, record_key, candidate_key, cost, is_resolved_together)"
    )
    module = dbt_macros.incremental_macros(con, "review_resolution_pairs")
    con.execute(str(module.delete_changed_pairs()))
    con.execute(str(module.update_changed_candidates()))
    rows = con.sql("select * from review_resolution_pairs order by record_key").fetchall()
    assert rows == [
        ("incident", "f:r", "f:c", 1.0, False),
        ("incident", "f:s", "f:t", 2.0, True),
    ]
