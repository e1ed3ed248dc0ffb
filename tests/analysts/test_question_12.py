"""Question 12 answers what its header asks: an incident counts as unpatrolled when no
patrol in its district started by 72 hours after it and ended no earlier than 72 hours
before it. The shipped query uses a running maximum and an as-of join (one sorted pass);
here it must agree with the plain pairwise reading on any small set of rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
from hypothesis import example, given, settings
from hypothesis import strategies as st

QUESTION = (
    Path(__file__).resolve().parents[2]
    / "docs/analysts/questions/12_incident_districts_without_patrols.sql"
)
# The question as it reads: every incident against every patrol of its district.
PAIRWISE = """
with unpatrolled as (
    select incidents.* from fct_incidents as incidents
    where not exists (
        select 1 from fct_patrols as patrols
        where patrols.admin2_pcode = incidents.admin2_pcode
            and patrols.started_at <= incidents.occurred_at + interval 72 hour
            and coalesce(patrols.ended_at, patrols.started_at)
                >= incidents.occurred_at - interval 72 hour
    )
)
select locations.admin1_name, locations.admin2_name, count(*),
    sum(coalesce(unpatrolled.fatalities, 0)), min(unpatrolled.occurred_at),
    max(unpatrolled.occurred_at),
    list(distinct unpatrolled.incident_type order by unpatrolled.incident_type)
from unpatrolled
inner join dim_locations as locations on unpatrolled.admin2_pcode = locations.admin2_pcode
group by all
order by 3 desc, 2
"""
START = datetime(2026, 1, 1, tzinfo=UTC)
districts = st.sampled_from(["HT0111", "HT0112", None])
# whole hours on a 12-day span: windows of 72 hours both overlap and miss, and starts tie
moments = st.one_of(st.none(), st.integers(0, 288).map(lambda h: START + timedelta(hours=h)))
incidents = st.lists(
    st.tuples(districts, moments, st.one_of(st.none(), st.integers(0, 5)), st.sampled_from("ab")),
    max_size=25,
)
patrols = st.lists(
    st.tuples(districts, moments, st.one_of(st.none(), st.integers(-10, 120))), max_size=25
)


def _tables(con: duckdb.DuckDBPyConnection, incident_rows: list, patrol_rows: list) -> None:
    con.execute("SET TimeZone = 'UTC'")
    con.execute(
        "create table fct_incidents (admin2_pcode varchar, occurred_at timestamptz, "
        "fatalities integer, incident_type varchar)"
    )
    con.execute(
        "create table fct_patrols (admin2_pcode varchar, started_at timestamptz, ended_at timestamptz)"
    )
    con.execute(
        "create table dim_locations (admin2_pcode varchar, admin1_name varchar, admin2_name varchar)"
    )
    con.execute(
        "insert into dim_locations values ('HT0111', 'Ouest', 'Port-au-Prince'), "
        "('HT0112', 'Ouest', 'Delmas'), ('HT0211', 'Sud-Est', 'Jacmel')"
    )
    if incident_rows:
        con.executemany("insert into fct_incidents values (?, ?, ?, ?)", incident_rows)
    for district, started, hours in patrol_rows:
        # a patrol's end: none, or some hours after (or, in bad data, before) its start
        ended = None if started is None or hours is None else started + timedelta(hours=hours)
        con.execute("insert into fct_patrols values (?, ?, ?)", [district, started, ended])


@settings(max_examples=60, deadline=None)
@given(incidents, patrols)
# a patrol 60 hours after the incident covers it
@example([("HT0111", START, 1, "a")], [("HT0111", START + timedelta(hours=60), 2)])
# of two patrols starting together the longer one covers it, whichever the sort puts last
@example(
    [("HT0111", START + timedelta(hours=100), 0, "b")],
    [("HT0111", START, 2), ("HT0111", START, 40), ("HT0111", START, 3)],
)
def test_question_12_agrees_with_the_pairwise_reading(
    incident_rows: list, patrol_rows: list
) -> None:
    con = duckdb.connect()
    try:
        _tables(con, incident_rows, patrol_rows)
        assert con.execute(QUESTION.read_text()).fetchall() == con.execute(PAIRWISE).fetchall()
    finally:
        con.close()
