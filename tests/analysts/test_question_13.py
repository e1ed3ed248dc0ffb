"""Question 13 answers what its header asks: per province, the reports known at a past
moment against those known now. The shipped query counts the reports whose version has not
changed since without pairing them up; here it must agree with the plain reading, a full
outer join of every report known then with every report known now, on any small history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
from hypothesis import example, given, settings
from hypothesis import strategies as st

QUESTION = (
    Path(__file__).resolve().parents[2]
    / "docs/analysts/questions/13_incidents_known_then_vs_now.sql"
)
# The question as it reads: every report known then against every report known now.
PLAIN = """
with asked as (
    select min(known_from) + interval 10 day as moment from fct_incident_history
),
then_known as (
    select history.record_key, history.event_id, history.admin1_pcode
    from fct_incident_history as history, asked
    where history.known_from <= asked.moment
        and (history.known_to is null or history.known_to > asked.moment)
),
now_known as (
    select record_key, event_id, admin1_pcode from fct_incident_history where known_to is null
)
select
    coalesce(now_known.admin1_pcode, then_known.admin1_pcode),
    count(then_known.record_key),
    count(now_known.record_key),
    count(*) filter (where then_known.record_key is null),
    count(*) filter (where then_known.event_id <> now_known.event_id),
    count(*) filter (where now_known.record_key is null)
from then_known
full outer join now_known on then_known.record_key = now_known.record_key
group by all
order by 1
"""
START = datetime(2026, 1, 1, tzinfo=UTC)
provinces = st.sampled_from(["CR01", "CR02", None])
# A report's versions, each (hours after the last one ended, hours it lasted, province): the
# last one lasting None is still known; a gap is a retraction and a report again later.
# Whole hours on 20 days, so the moment asked (10 days after the first) falls before, inside
# and after versions, and on their bounds.
versions = st.lists(
    st.tuples(st.integers(0, 160), st.integers(1, 240), provinces), min_size=1, max_size=4
)
reports = st.lists(st.tuples(versions, st.booleans()), max_size=12)


def _history(con: duckdb.DuckDBPyConnection, report_rows: list) -> None:
    con.execute("SET TimeZone = 'UTC'")
    con.execute(
        "create table fct_incident_history (record_key varchar, event_id varchar, "
        "admin1_pcode varchar, known_from timestamptz, known_to timestamptz)"
    )
    rows = []
    for r, (chain, still_known) in enumerate(report_rows):
        ended = START
        for v, (gap, hours, province) in enumerate(chain):
            known_from = ended + timedelta(hours=gap)
            ended = known_from + timedelta(hours=hours)
            last = v == len(chain) - 1
            known_to = None if last and still_known else ended
            rows.append((f"r{r}", f"e{r}.{v}", province, known_from, known_to))
    if rows:
        con.executemany("insert into fct_incident_history values (?, ?, ?, ?, ?)", rows)


@settings(max_examples=80, deadline=None)
@given(reports)
# one report unchanged, one corrected, one retracted, one added after the moment
@example(
    [
        ([(0, 1, "CR01")], True),
        ([(0, 100, "CR01"), (0, 1, "CR02")], True),
        ([(0, 300, "CR02")], False),
        ([(0, 1, None), (300, 1, "CR01")], True),
    ]
)
# reported at the very moment asked (ten days after the first): known then
@example([([(0, 1, "CR01")], False), ([(240, 5, "CR02")], True)])
def test_question_13_agrees_with_the_plain_reading(report_rows: list) -> None:
    con = duckdb.connect()
    try:
        _history(con, report_rows)
        assert con.execute(QUESTION.read_text()).fetchall() == con.execute(PLAIN).fetchall()
    finally:
        con.close()
