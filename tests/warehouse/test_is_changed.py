"""is_changed, the predicate an incremental model (or a scoped test) puts on the rows a run
changed, rendered by the project's macros as dbt renders them on DuckDB (run_query answered
by DuckDB): it names exactly the keys changed since the watermark, whatever characters
they hold; as constants up to 10,000 keys, a subquery past them, `false` for none."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import duckdb
from hypothesis import given, settings
from hypothesis import strategies as st

from tests import dbt_macros

MARK = datetime(2026, 11, 1, tzinfo=UTC)
KEY = st.text(alphabet=st.sampled_from("ab'\",:\\ é"), min_size=1, max_size=6)


def predicate(con: duckdb.DuckDBPyConnection) -> str:
    module = dbt_macros.incremental_macros(con, "fct_patrols")
    return str(module.is_changed("patrol_id", "patrol"))


def warehouse(
    events: list[tuple[str, str, bool]], model: str = "fct_patrols", entity: str = "patrol"
) -> duckdb.DuckDBPyConnection:
    """int_events_keyed holding (record_key, record_id, keyed after the watermark) events
    of `entity`, and the watermark of `model`."""
    con = duckdb.connect()
    con.execute(
        "create table int_events_keyed (record_key varchar, feed_id varchar, "
        "record_id varchar, entity varchar, keyed_at timestamptz)"
    )
    rows = [
        (key, rid, entity, MARK + timedelta(hours=1 if new else -1)) for key, rid, new in events
    ]
    if rows:
        con.executemany("insert into int_events_keyed values (?, 'f', ?, ?, ?)", rows)
    con.execute(
        "create table dbt_watermarks (model_name varchar, built_through timestamptz, "
        "previous_through timestamptz)"
    )
    con.execute("insert into dbt_watermarks values (?, ?, null)", [model, MARK])
    return con


def selected(con: duckdb.DuckDBPyConnection, where: str, keys: set[str]) -> set[str]:
    con.execute("create or replace table candidates (patrol_id varchar)")
    con.executemany("insert into candidates values (?)", [(k,) for k in keys])
    return {k for (k,) in con.sql(f"select patrol_id from candidates where {where}").fetchall()}


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(KEY, KEY, st.booleans()), max_size=12))
def test_names_exactly_the_changed_keys(events: list[tuple[str, str, bool]]) -> None:
    con = warehouse(events)
    where = predicate(con)
    changed = {k for key, rid, new in events if new for k in (key, f"f:{rid}")}
    candidates = {k for key, rid, _ in events for k in (key, f"f:{rid}")} | {"other"}
    assert selected(con, where, candidates) == changed
    if not changed:
        assert where == "false"
    else:
        assert "select" not in where.lower(), "a few keys are constants"


def test_past_ten_thousand_keys_a_subquery() -> None:
    events = [(f"k{i}", f"r{i}", True) for i in range(5001)]  # 10,002 keys
    con = warehouse(events)
    where = predicate(con)
    assert "select" in where.lower()
    changed = {k for key, rid, _ in events for k in (key, f"f:{rid}")}
    assert selected(con, where, changed | {"other"}) == changed
