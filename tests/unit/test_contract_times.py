"""Times as the feed contract reads them (ingest.feeds.contract): every format the feeds use to
UTC, with the precision the text carries, defaults for undated records, and the
misreadings real files invite (impossible dates, two-digit years, French months with
accents)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.feeds.contract import (
    EAST_ZONES,
    EN_MONTHS,
    FR_MONTHS,
    WEST_ZONES,
    Columns,
    file_name_date,
    time_sql,
)
from ingest.feeds.registry import FileNameDate, TimeSpec, pattern_precision
from ingest.sessions import connect


def parse(
    spec: TimeSpec, values: dict[str, list[str | None]], default: datetime | None = None
) -> list[tuple[datetime | None, str | None]]:
    """(UTC time, precision) of each row."""
    con = connect()
    table = pa.table({k: pa.array(v, pa.string()) for k, v in values.items()})
    con.register("t", table)
    t = time_sql(Columns(table.column_names), spec, default)
    return con.sql(f"SELECT {t.at}, {t.precision} FROM t").fetchall()


def times(spec: TimeSpec, values: dict[str, list[str | None]]) -> list[datetime | None]:
    return [at for at, _ in parse(spec, values)]


ZONES = (
    {"Z": 0}
    | {z: i + 1 for i, z in enumerate(EAST_ZONES)}
    | {z: -(i + 1) for i, z in enumerate(WEST_ZONES)}
)
# How French writers accent the months DTGs abbreviate.
ACCENTED = {"FEV": "FÉV", "AOU": "AOÛ", "DEC": "DÉC"}


@settings(deadline=None)
@given(
    instant=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31)).map(
        lambda d: d.replace(second=0, microsecond=0, tzinfo=UTC)
    ),
    zone=st.sampled_from(sorted(ZONES)),
    french=st.booleans(),
    accents=st.booleans(),
    spaced=st.booleans(),
)
def test_dtg_round_trip(instant: datetime, zone: str, french: bool, accents: bool, spaced: bool):
    local = instant + timedelta(hours=ZONES[zone])
    month = (FR_MONTHS if french else EN_MONTHS)[local.month - 1]
    if french and accents:
        month = ACCENTED.get(month, month)
    dtg = f"{local:%d%H%M}{zone}{month}{local:%y}"
    if spaced:
        dtg = f"{dtg[:6]} {dtg[6:]}".lower()
    got = parse(TimeSpec(fields=("t",), format="dtg"), {"t": [dtg]})
    if 2000 <= local.year <= 2099:
        assert got == [(instant, "minute")]


@pytest.mark.parametrize(
    "bad", ["311200ZFEB26", "231260ZNOV26", "231200JNOV26", "231200ZXYZ26", "", None, "2026-11-23"]
)
def test_unreadable_dtg_is_null(bad):
    assert times(TimeSpec(fields=("t",), format="dtg"), {"t": [bad]}) == [None]


def test_local_time_in_agency_zone_joins_fields_and_knows_its_precision():
    spec = TimeSpec(
        fields=("d", "h"),
        format="local",
        patterns=("%d/%m/%Y %H:%M", "%d/%m/%Y"),
        tz="Africa/Nairobi",
    )
    got = parse(
        spec, {"d": ["05/11/2026", "05/11/2026", "31/02/2026"], "h": ["14:30", None, "10:00"]}
    )
    assert got == [
        (datetime(2026, 11, 5, 11, 30, tzinfo=UTC), "minute"),
        (datetime(2026, 11, 4, 21, 0, tzinfo=UTC), "day"),
        (None, None),
    ]


def test_dayfirst_is_utc_and_rejects_impossible_dates():
    spec = TimeSpec(fields=("d",), format="dayfirst", patterns=("%d/%m/%Y",))
    assert times(spec, {"d": ["03/02/2026", "31/02/2026", "2026-02-03"]}) == [
        datetime(2026, 2, 3, tzinfo=UTC),
        None,
        None,
    ]


def test_iso_with_and_without_offset_and_partial_dates():
    spec = TimeSpec(fields=("d",), format="iso")
    assert parse(
        spec,
        {
            "d": [
                "2026-11-05T09:10:00+03:00",
                "2026-11-05T09:10:00",
                "2026-11-05",
                "2026-11",
                "2026",
                "soon",
            ]
        },
    ) == [
        (datetime(2026, 11, 5, 6, 10, tzinfo=UTC), "minute"),
        (datetime(2026, 11, 5, 9, 10, tzinfo=UTC), "minute"),
        (datetime(2026, 11, 5, tzinfo=UTC), "day"),
        (datetime(2026, 11, 1, tzinfo=UTC), "month"),
        (datetime(2026, 1, 1, tzinfo=UTC), "year"),
        (None, None),
    ]


def test_month_name_dates_have_month_precision_and_their_own_year():
    """'June 2014' is June 2014 at month precision, never 1900-06-01."""
    spec = TimeSpec(fields=("d",), format="dayfirst", patterns=("%d %B %Y", "%B %Y", "%b-%y"))
    assert parse(spec, {"d": ["17 May 2013", "June 2014", "Mar-21"]}) == [
        (datetime(2013, 5, 17, tzinfo=UTC), "day"),
        (datetime(2014, 6, 1, tzinfo=UTC), "month"),
        (datetime(2021, 3, 1, tzinfo=UTC), "month"),
    ]


def test_a_two_digit_year_is_never_year_14():
    """DuckDB's %Y takes '14' as the year 14: such a reading is unreadable, not 0014."""
    spec = TimeSpec(fields=("d",), format="dayfirst", patterns=("%m/%d/%Y",))
    assert times(spec, {"d": ["8/20/14", "8/20/2014"]}) == [None, datetime(2014, 8, 20, tzinfo=UTC)]


def test_undated_records_take_the_default_and_its_precision():
    spec = TimeSpec(fields=("d",), format="iso", default="2021-03")
    default = datetime(2021, 3, 1, tzinfo=UTC)
    assert parse(spec, {"d": [None, "2021-04-02", "garbage"]}, default) == [
        (default, "month"),
        (datetime(2021, 4, 2, tzinfo=UTC), "day"),
        (None, None),  # a time that is there but unreadable is not silently defaulted
    ]


def test_a_file_without_a_time_column_takes_the_file_name_date():
    spec = TimeSpec(from_file_name=FileNameDate(pattern=r"(?P<year>\d{4})[-_](?P<month>\d{2})"))
    when = file_name_date(spec.from_file_name, "3W_2021_08_final.csv")
    assert when == datetime(2021, 8, 1, tzinfo=UTC)
    assert parse(spec, {"x": ["a"]}, when) == [(when, "month")]
    assert file_name_date(spec.from_file_name, "no date here.csv") is None


@pytest.mark.parametrize(
    ("pattern", "precision"),
    [
        ("%d/%m/%Y %H:%M", "minute"),
        ("%Y-%m-%dT%H:%M:%S", "minute"),
        ("%d/%m/%Y", "day"),
        ("%-d %b %Y", "day"),
        ("%B %Y", "month"),
        ("%m/%Y", "month"),
        ("%Y", "year"),
    ],
)
def test_pattern_precision(pattern: str, precision: str):
    assert pattern_precision(pattern) == precision
