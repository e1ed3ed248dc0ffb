"""Envelope SQL: times to UTC from every format the feeds use."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.envelope import EAST_ZONES, EN_MONTHS, FR_MONTHS, WEST_ZONES, time_to_utc
from ingest.eventlog import connect
from ingest.registry import TimeField


def parse(tf: TimeField, values: dict[str, list[str | None]]) -> list[datetime | None]:
    con = connect()
    table = pa.table({k: pa.array(v, pa.string()) for k, v in values.items()})
    con.register("t", table)
    return [
        r[0] for r in con.sql(f"SELECT {time_to_utc(tf, table.column_names)} FROM t").fetchall()
    ]


ZONES = (
    {"Z": 0}
    | {z: i + 1 for i, z in enumerate(EAST_ZONES)}
    | {z: -(i + 1) for i, z in enumerate(WEST_ZONES)}
)


@settings(deadline=None)
@given(
    instant=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31)).map(
        lambda d: d.replace(second=0, microsecond=0, tzinfo=UTC)
    ),
    zone=st.sampled_from(sorted(ZONES)),
    french=st.booleans(),
    spaced=st.booleans(),
)
def test_dtg_round_trip(instant: datetime, zone: str, french: bool, spaced: bool):
    local = instant + timedelta(hours=ZONES[zone])
    months = FR_MONTHS if french else EN_MONTHS
    dtg = f"{local:%d%H%M}{zone}{months[local.month - 1]}{local:%y}"
    if spaced:
        dtg = f"{dtg[:6]} {dtg[6:]}".lower()
    got = parse(TimeField(("t",), "dtg"), {"t": [dtg]})
    if 2000 <= local.year <= 2099:
        assert got == [instant]


@pytest.mark.parametrize(
    "bad", ["311200ZFEB26", "231260ZNOV26", "231200JNOV26", "231200ZXYZ26", "", None, "2026-11-23"]
)
def test_unreadable_dtg_is_null(bad):
    assert parse(TimeField(("t",), "dtg"), {"t": [bad]}) == [None]


def test_local_time_in_agency_zone_joins_fields():
    tf = TimeField(("d", "h"), "local", ("%d/%m/%Y %H:%M", "%d/%m/%Y"), "Africa/Nairobi")
    got = parse(
        tf, {"d": ["05/11/2026", "05/11/2026", "31/02/2026"], "h": ["14:30", None, "10:00"]}
    )
    assert got == [
        datetime(2026, 11, 5, 11, 30, tzinfo=UTC),
        datetime(2026, 11, 4, 21, 0, tzinfo=UTC),
        None,
    ]


def test_dayfirst_is_utc_and_rejects_impossible_dates():
    tf = TimeField(("d",), "dayfirst", ("%d/%m/%Y",))
    assert parse(tf, {"d": ["03/02/2026", "31/02/2026", "2026-02-03"]}) == [
        datetime(2026, 2, 3, tzinfo=UTC),
        None,
        None,
    ]


def test_iso_with_and_without_offset():
    tf = TimeField(("d",), "iso")
    assert parse(
        tf, {"d": ["2026-11-05T09:10:00+03:00", "2026-11-05T09:10:00", "2026-11-05", "soon"]}
    ) == [
        datetime(2026, 11, 5, 6, 10, tzinfo=UTC),
        datetime(2026, 11, 5, 9, 10, tzinfo=UTC),
        datetime(2026, 11, 5, tzinfo=UTC),
        None,
    ]


def test_missing_time_column_reads_as_null():
    assert parse(TimeField(("absent",), "iso"), {"other": ["x"]}) == [None]
