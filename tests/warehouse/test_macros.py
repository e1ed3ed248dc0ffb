"""The dbt project's releasability macros as SQL on any mix of levels, without a build.

Jinja renders the project's macros as dbt does on DuckDB (dispatch picks `duckdb__`, then
`default__`); DuckDB then runs the SQL on rows hypothesis draws. A build's marts are checked the same way on
a small operation in test_rules.py.
"""

from __future__ import annotations

from datetime import UTC, datetime

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.releasability import RELEASABILITY
from tests import dbt_macros

# What a row may carry: every level, and values that are none of them (unknown: restricted).
VALUES = [*RELEASABILITY, "Public", "secret", "", None]


@pytest.fixture(scope="module")
def macros() -> dbt_macros.Macros:
    return dbt_macros.macros()


def strictest(values: list[str | None]) -> str:
    """The rule (DESIGN.md, need to know): the strictest level; unknown or missing ones
    are restricted."""
    return max((v if v in RELEASABILITY else "restricted" for v in values), key=RELEASABILITY.index)


def test_levels_are_the_registry_s(macros: dbt_macros.Macros) -> None:
    levels = duckdb.sql(f"select {macros.releasability_levels()}").fetchall()[0][0]
    assert levels == list(RELEASABILITY)


@settings(max_examples=200, deadline=None)
@given(groups=st.lists(st.lists(st.sampled_from(VALUES), min_size=1, max_size=6), min_size=1))
def test_a_merged_row_takes_the_strictest_level_of_its_sources(
    macros: dbt_macros.Macros, groups: list[list[str | None]]
) -> None:
    rows = [(g, v) for g, values in enumerate(groups) for v in values]
    con = duckdb.connect()
    con.execute("create table sources (grp integer, releasability varchar)")
    con.executemany("insert into sources values (?, ?)", rows)
    got = con.sql(
        f"select grp, {macros.strictest_releasability('releasability')} "
        "from sources group by grp order by grp"
    ).fetchall()
    assert got == [(g, strictest(values)) for g, values in enumerate(groups)]


@settings(max_examples=50, deadline=None)
@given(value=st.sampled_from(VALUES))
def test_rank_orders_levels_and_ranks_unknown_as_restricted(
    macros: dbt_macros.Macros, value: str | None
) -> None:
    (rank,) = duckdb.execute(f"select {macros.releasability_rank('$v')}", {"v": value}).fetchone()
    assert rank == RELEASABILITY.index(strictest([value])) + 1


# Times the event log can hold: before the epoch (negative microseconds) too.
TIMES = st.datetimes(
    min_value=datetime(1900, 1, 1), max_value=datetime(2100, 12, 31), timezones=st.just(UTC)
)


def _utc() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")  # as the warehouse's profile sets it
    return con


@settings(max_examples=200, deadline=None)
@given(at=TIMES)
def test_date_and_week_from_the_epoch_are_the_calendar_s(
    macros: dbt_macros.Macros, at: datetime
) -> None:
    """utc_date and week_start skip ICU's calendar (ten times faster): same days."""
    got = (
        _utc()
        .execute(
            f"select {macros.utc_date('$t')}, {macros.week_start('$t')}, "
            "cast($t as date), cast(date_trunc('week', $t) as date)",
            {"t": at},
        )
        .fetchone()
    )
    assert got is not None
    assert got[:2] == got[2:]


@settings(max_examples=200, deadline=None)
@given(later=TIMES, earlier=TIMES)
def test_seconds_between_is_the_calendar_s(
    macros: dbt_macros.Macros, later: datetime, earlier: datetime
) -> None:
    got = (
        _utc()
        .execute(
            f"select {macros.seconds_between('$a', '$b')}, epoch($a - $b)",
            {"a": later, "b": earlier},
        )
        .fetchone()
    )
    assert got is not None
    assert got[0] == pytest.approx(got[1], abs=1e-6)
    assert got[0] == (later - earlier).total_seconds()


# Keys with ties and NULLs; values unique within a group (one may be NULL), so each value
# tells its key.
KEYED = st.tuples(
    st.one_of(st.none(), st.integers(0, 3)), st.one_of(st.none(), st.text("abc", max_size=3))
)


@settings(max_examples=200, deadline=None)
@given(
    groups=st.lists(st.lists(KEYED, max_size=6, unique_by=lambda pair: pair[1]), min_size=1),
    keep=st.integers(0, 4),
)
def test_an_ordered_list_is_the_group_s_values_in_key_order(
    macros: dbt_macros.Macros, groups: list[list[tuple[int | None, str | None]]], keep: int
) -> None:
    """ordered_list: a group's values in its keys' order, NULL keys last, NULL values kept;
    only the rows the filter keeps; NULL when it keeps none."""
    rows = [(g, k, v) for g, pairs in enumerate(groups) for k, v in pairs]
    con = duckdb.connect()
    con.execute("create table t (grp integer, k integer, v varchar)")
    if rows:  # (a group of no rows is no group)
        con.executemany("insert into t values (?, ?, ?)", rows)
    got = dict(
        con.sql(
            f"select grp, {macros.ordered_list('v', ['k'], filter=f'coalesce(k, 0) < {keep}')} "
            "from t group by grp"
        ).fetchall()
    )
    for g, pairs in enumerate(groups):
        kept = {v: k for k, v in pairs if (k or 0) < keep}
        if not kept:
            assert got.get(g) is None
            continue
        values = got[g]
        assert sorted(values, key=str) == sorted(kept, key=str)
        keys = [(kept[v] is None, kept[v] or 0) for v in values]
        assert keys == sorted(keys)


@settings(max_examples=200, deadline=None)
@given(
    groups=st.lists(
        st.lists(
            st.tuples(
                st.one_of(st.none(), st.integers(-5, 5)),
                st.one_of(st.none(), st.lists(st.text("ab", max_size=2), max_size=3)),
            ),
            min_size=1,
            max_size=6,
            unique_by=lambda pair: pair[0],
        ),
        min_size=1,
    )
)
def test_a_keyed_list_is_the_group_s_values_in_the_order_of_its_unique_keys(
    macros: dbt_macros.Macros, groups: list[list[tuple[int | None, list[str] | None]]]
) -> None:
    """keyed_list: a group's values (lists, as a report's event ids) in the order of its
    keys, unique within the group, the NULL key last; NULL values kept."""
    rows = [(g, k, v) for g, pairs in enumerate(groups) for k, v in pairs]
    con = duckdb.connect()
    con.execute("create table t (grp integer, k integer, v varchar[])")
    con.executemany("insert into t values (?, ?, ?)", rows)
    got = dict(con.sql(f"select grp, {macros.keyed_list('v', 'k')} from t group by grp").fetchall())
    assert got == {
        g: [v for _, v in sorted(pairs, key=lambda pair: (pair[0] is None, pair[0] or 0))]
        for g, pairs in enumerate(groups)
    }
