"""Question 01 answers what its header asks: an incident counts as without aid when no
delivery in its district was made from the incident's day to 14 days later. The shipped
query counts incidents per district and day and finds each one's next day of aid with an
as-of join; here it must agree with the plain pairwise reading on any small set of rows."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import duckdb
from hypothesis import example, given, settings
from hypothesis import strategies as st

QUESTION = (
    Path(__file__).resolve().parents[2] / "docs/analysts/questions/01_incidents_without_aid.sql"
)
# The question as it reads: every incident against every delivery of its district.
PAIRWISE = """
with uncovered as (
    select incidents.incident_id, incidents.admin2_pcode, incidents.occurred_on,
        coalesce(incidents.fatalities, 0) as fatalities
    from fct_incidents as incidents
    where not exists (
        select 1 from fct_aid_deliveries as deliveries
        where deliveries.admin2_pcode = incidents.admin2_pcode
            and deliveries.delivered_on between incidents.occurred_on and incidents.occurred_on + 14
    )
)
select locations.admin1_name, locations.admin2_name, uncovered.admin2_pcode, count(*),
    sum(uncovered.fatalities), min(uncovered.occurred_on), max(uncovered.occurred_on),
    (select max(deliveries.delivered_on) from fct_aid_deliveries as deliveries
     where deliveries.admin2_pcode = uncovered.admin2_pcode)
from uncovered
inner join dim_locations as locations on uncovered.admin2_pcode = locations.admin2_pcode
group by all
order by 4 desc, 2
"""
START = date(2026, 1, 1)
districts = st.sampled_from(["HT0111", "HT0112", None])
# days of a 40-day span: 14-day windows both reach the next delivery and miss it
days = st.one_of(st.none(), st.integers(0, 40).map(lambda d: START + timedelta(days=d)))
incidents = st.lists(
    st.tuples(districts, days, st.one_of(st.none(), st.integers(0, 5))), max_size=25
)
deliveries = st.lists(st.tuples(districts, days), max_size=25)


def _tables(con: duckdb.DuckDBPyConnection, incident_rows: list, delivery_rows: list) -> None:
    con.execute(
        "create table fct_incidents (incident_id varchar, admin2_pcode varchar, "
        "occurred_on date, fatalities integer)"
    )
    con.execute("create table fct_aid_deliveries (admin2_pcode varchar, delivered_on date)")
    con.execute(
        "create table dim_locations (admin2_pcode varchar, admin1_name varchar, admin2_name varchar)"
    )
    con.execute(
        "insert into dim_locations values ('HT0111', 'Ouest', 'Port-au-Prince'), "
        "('HT0112', 'Ouest', 'Delmas'), ('HT0211', 'Sud-Est', 'Jacmel')"
    )
    for i, row in enumerate(incident_rows):
        con.execute("insert into fct_incidents values (?, ?, ?, ?)", [f"i{i}", *row])
    if delivery_rows:
        con.executemany("insert into fct_aid_deliveries values (?, ?)", delivery_rows)


@settings(max_examples=60, deadline=None)
@given(incidents, deliveries)
# aid on the 14th day after covers the incident; on the 15th it does not
@example(
    [("HT0111", START, 1), ("HT0112", START, 2)],
    [("HT0111", START + timedelta(days=14)), ("HT0112", START + timedelta(days=15))],
)
# aid the day before does not cover it, a later one in the window does
@example(
    [("HT0111", START + timedelta(days=5), 0)],
    [("HT0111", START + timedelta(days=4)), ("HT0111", START + timedelta(days=9))],
)
def test_question_01_agrees_with_the_pairwise_reading(
    incident_rows: list, delivery_rows: list
) -> None:
    con = duckdb.connect()
    try:
        _tables(con, incident_rows, delivery_rows)
        assert con.execute(QUESTION.read_text()).fetchall() == con.execute(PAIRWISE).fetchall()
    finally:
        con.close()
