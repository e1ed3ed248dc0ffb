"""MGRS references to WGS84 degrees: the UDFs mgrs_to_lat/mgrs_to_lon decode a whole batch
in numpy (ingest.warehouse.mgrs_grid) and must answer as the `mgrs` package does one
reference at a time (mgrs_grid.mgrs_to_latlon): NULL for the same references, the same
coordinates to 1e-9 degrees."""

from __future__ import annotations

import math
from collections.abc import Callable

import duckdb
import mgrs
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.warehouse import mgrs_grid, plugins
from ingest.warehouse.mgrs_grid import mgrs_to_latlon

# the package warns (RuntimeWarning) of references decoded outside their latitude band
pytestmark = pytest.mark.filterwarnings("ignore:Warning in:RuntimeWarning")

TOLERANCE = 1e-9  # degrees

_MGRS = mgrs.MGRS()


def udf(
    refs: list[str | None], kind: pa.DataType | None = None
) -> list[tuple[float, float] | None]:
    """The UDFs' answers, as DuckDB calls them: lat, then lon, on one batch."""
    batch = pa.array(refs, kind or pa.string())
    lats = plugins.mgrs_to_lat(batch).to_pylist()
    lons = plugins.mgrs_to_lon(batch).to_pylist()
    assert [x is None for x in lats] == [x is None for x in lons]
    return [None if a is None else (a, b) for a, b in zip(lats, lons, strict=True)]


def assert_as_package(refs: list[str | None], got: list[tuple[float, float] | None]) -> None:
    for ref, answer in zip(refs, got, strict=True):
        want = None if ref is None else mgrs_to_latlon(ref)
        assert (answer is None) == (want is None), (ref, answer, want)
        if answer is not None and want is not None:
            assert abs(answer[0] - want[0]) <= TOLERANCE, (ref, answer, want)
            assert abs(answer[1] - want[1]) <= TOLERANCE, (ref, answer, want)


# --- references as the package writes them, then as people do -------------------------------

_SPACES = st.sampled_from(["", "", "", " ", "  ", "\t", "\n", "\r\n", "\x0b", "\x1f"])


def _point(
    draw: st.DrawFn, lat: st.SearchStrategy[float], precision: st.SearchStrategy[int]
) -> str:
    """toMGRS's reference for a point. It writes zones 1-9 with a leading 0: often without,
    as people write them."""
    ref = _MGRS.toMGRS(draw(lat), draw(st.floats(-180, 180)), MGRSPrecision=draw(precision))
    return ref[1:] if ref.startswith("0") and draw(st.booleans()) else ref


@st.composite
def written(draw: st.DrawFn) -> str:
    """A point anywhere (UPS near the poles: no zone, never matches), at any precision, with
    whitespace and lower case."""
    ref = _point(draw, st.floats(-90, 90), st.integers(0, 5))
    chars = [c.lower() if draw(st.booleans()) else c for c in ref]
    gaps = draw(st.lists(_SPACES, min_size=len(chars) + 1, max_size=len(chars) + 1))
    return "".join(g + c for g, c in zip(gaps, [*chars, ""], strict=True))


_BANDS = "CDEFGHJKLMNPQRSTUVWX"
_ANY = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZaeiouxz "


@st.composite
def rebanded(draw: st.DrawFn) -> str:
    """A point in the UTM area with its band letter one or two bands off, or any letter: it
    places the point 2,000 km away or not, in a band next to its own (the package accepts it,
    within 1 degree / 10**precision beyond) or not (NULL)."""
    ref = _point(draw, st.floats(-80, 83.99), st.sampled_from([0, 0, 0, 1, 2, 3, 4, 5]))
    at = 2 if ref[1].isdigit() else 1
    off = draw(st.sampled_from([-2, -1, 1, 2, 0]))
    band = _BANDS.index(ref[at]) + off
    letter = _BANDS[band] if off and 0 <= band < len(_BANDS) else draw(st.sampled_from(_ANY))
    return ref[:at] + letter + ref[at + 1 :]


@st.composite
def mistyped(draw: st.DrawFn) -> str:
    """A written reference with one character replaced, dropped or added: another zone,
    band or square letter (valid or not for the zone and latitude), an odd digit count."""
    ref = draw(written())
    at = draw(st.integers(0, len(ref)))
    char = draw(st.sampled_from(_ANY))
    edit = draw(st.sampled_from(["replace", "drop", "add"]))
    if edit == "add" or at == len(ref):
        return ref[:at] + char + ref[at:]
    return ref[:at] + ("" if edit == "drop" else char) + ref[at + 1 :]


# any zone, band and 100 km square letters (valid for the zone or not; more often around
# Norway and Svalbard, where some squares are refused), an even count of digits
squares = st.builds(
    lambda zone, band, column, row, digits: f"{zone}{band}{column}{row}{digits}",
    st.one_of(st.integers(1, 60), st.integers(31, 37)),
    st.one_of(st.sampled_from(_BANDS), st.sampled_from("VX")),
    st.sampled_from("ABCDEFGHJKLMNPQRSTUVWXYZ"),
    st.sampled_from("ABCDEFGHJKLMNPQRSTUV"),
    st.integers(0, 5).flatmap(
        lambda p: st.text(st.sampled_from("0123456789"), min_size=2 * p, max_size=2 * p)
    ),
)
# zones and letters around the valid ones, digits of any count
assembled = st.builds(
    lambda zone, letters, digits: zone + letters + digits,
    st.sampled_from(
        ["", "0", "00", "05", "1", "4", "9", "10", "31", "32", "59", "60", "61", "99", "100"]
    ),
    st.text(st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ"), min_size=0, max_size=4),
    st.text(st.sampled_from("0123456789"), max_size=12),
)
junk = st.one_of(
    st.text(st.sampled_from(_ANY + "\t-_./"), max_size=18),
    st.text(max_size=12),  # any Unicode
    assembled,
    st.sampled_from(["", " ", "31NEA\x00", "31NEA12\x00", "\uff13\uff11NEA", "31NEA\uff11\uff12"]),
)
references = st.one_of(written(), mistyped(), rebanded(), squares, junk, st.none())


@settings(max_examples=150, deadline=None)
@given(st.lists(written(), min_size=1, max_size=40))
def test_written_references_decode_as_the_package_does(refs: list[str]) -> None:
    assert_as_package(list(refs), udf(list(refs)))


@settings(max_examples=150, deadline=None)
@given(st.lists(squares, min_size=1, max_size=40))
def test_every_square_decodes_or_not_as_the_package_does(refs: list[str]) -> None:
    assert_as_package(list(refs), udf(list(refs)))


@settings(max_examples=200, deadline=None)
@given(st.lists(references, min_size=1, max_size=40))
def test_any_text_decodes_or_not_as_the_package_does(refs: list[str | None]) -> None:
    assert_as_package(refs, udf(refs))


# --- fixed examples ---------------------------------------------------------------------------


def test_the_point_is_the_centre_of_the_cell() -> None:
    """`toLatLon` (mgrs >= 1.6) returns the centre of the cell the digits name, not its
    south-west corner: on the equator and zone 31's central meridian (3 E), the 1 m cell at
    (500000, 0) is centred 0.5 m north and east of them, and the 100 km square EA at
    (550000, 50000)."""
    a, e2, k0 = 6378137.0, 0.0066943799901413165, 0.9996
    metre_north = math.degrees(1 / (k0 * a * (1 - e2)))  # at the equator
    metre_east = math.degrees(1 / (k0 * a))
    [cell, square] = udf(["31NEA0000000000", "31NEA"])
    assert cell is not None and square is not None
    assert cell[0] == pytest.approx(0.5 * metre_north, abs=1e-12)
    assert cell[1] == pytest.approx(3 + 0.5 * metre_east, abs=1e-12)
    assert square == pytest.approx((0.4523515857, 3.4493466507), abs=1e-9)


def test_known_places() -> None:
    """The package's README: toMGRS(42, -93) (a 1 m cell), and a reference on Oahu."""
    [iowa, oahu] = udf(["15TWG0000049776", "  4QEJ 97987 90670  "])
    assert iowa == pytest.approx((42.0, -93.0), abs=1e-5)
    assert oahu == pytest.approx((21.61643, -158.05326), abs=1e-5)


@pytest.mark.parametrize(
    "ref",
    [
        None,
        "",
        "   ",
        "31NEA1",  # odd digit count
        "31NEA12345678901",  # 11 digits
        "0NEA",  # zone 0
        "61NEA",
        "31IEA",  # I and O are no letters of the grid
        "31NOA",
        "31NEW",  # row letters stop at V
        "31ANE",  # polar bands (UPS) need no zone, and the pattern wants one
        "31YEA",
        "ZGC1234512345",  # UPS: not read
        "34NZZ",  # the simulator's unusable reference: Z is no column of zone 34's set
        "31NJA",  # J-R are zone 32's columns
        "32XNA",  # no zones 32, 34, 36 in band X (Svalbard)
        "36XNA",
        "31VEA",  # 31V ends at column D (32V extends west over Norway)
        "31MEA",  # northing past 10,000,000 m
        "31NEV",  # 17.6 N: beyond band P (and its 1 degree margin)
    ],
)
def test_unusable_references_are_null(ref: str | None) -> None:
    assert udf([ref]) == [None]
    assert ref is None or mgrs_to_latlon(ref) is None


def test_a_zone_written_with_a_leading_zero_is_read() -> None:
    """The package writes zones 1-9 as 01-09 (Oahu is in zone 04): both forms are a point."""
    ref = _MGRS.toMGRS(21.61643, -158.05326)
    assert ref.startswith("04Q")
    [padded, plain] = udf([ref, ref[1:]])
    assert padded is not None and padded == plain
    assert padded == pytest.approx((21.61643, -158.05326), abs=1e-5)
    assert udf(["00NEA", "061NEA"]) == [None, None]


def test_a_reference_in_the_next_band_is_a_point() -> None:
    """GEOTRANS accepts a band letter one off (with a warning): 31PEA is at 18.5 N."""
    [point] = udf(["31PEA"])
    assert point == pytest.approx((18.540032053, 3.473768971), abs=1e-9)


@pytest.mark.parametrize(
    "ref",
    [
        "60NZG3387954834",  # within 1e-13 rad of longitude 180: the package says -179.99...
        "31NDT1913469083",  # 6e-14 rad inside band N's limit (16.00001 N at 1 m cells)
        "31NCT9204569198",  # 7e-13 rad outside it: NULL
        "18\u017fUJ2337106519",  # long s: "\u017f".upper() == "S", Python reads band S
        "31NEA\uff11\uff12",  # Unicode digits: the pattern takes it, the package refuses it
    ],
)
def test_borderline_rows_go_to_the_package(ref: str, monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[str] = []
    package: Callable[[str], tuple[float, float] | None] = mgrs_to_latlon
    monkeypatch.setattr(mgrs_grid, "mgrs_to_latlon", lambda r: asked.append(r) or package(r))
    refs = ["31NEA", ref, "33UXP0400085000"]
    got = udf(refs)
    assert asked == [ref]
    monkeypatch.undo()
    assert_as_package(refs, got)
    assert (got[1] is None) == (ref == "31NCT9204569198" or ref.endswith("\uff12"))


# --- batches as DuckDB and Spark hand them over ---------------------------------------------


REFS = ["31NEA", None, "33UXP0400085000", " 4qfj 1234 5678", "34NZZ", "", "60CVK", "1CAA"]


@pytest.mark.parametrize("kind", [pa.string(), pa.large_string(), pa.string_view()])
def test_string_types(kind: pa.DataType) -> None:
    assert_as_package(REFS, udf(REFS, kind))


def test_chunked_and_sliced_batches() -> None:
    chunked = pa.chunked_array([pa.array(REFS[:3]), pa.array(REFS[3:])])
    lat, lon = mgrs_grid.decode(chunked)
    sliced_lat, sliced_lon = mgrs_grid.decode(pa.array(["junk", *REFS])[1:])
    for got in ((lat, lon), (sliced_lat, sliced_lon)):
        as_pairs = [None if math.isnan(a) else (a, b) for a, b in zip(*got, strict=True)]
        assert_as_package(REFS, as_pairs)
    assert len(mgrs_grid.decode(pa.array([], pa.string()))[0]) == 0
    assert udf([None, None], pa.null()) == [None, None]


def test_lon_of_another_batch_is_not_the_last_batchs() -> None:
    """mgrs_to_lon reuses mgrs_to_lat's decoding only for the very same batch."""
    plugins.mgrs_to_lat(pa.array(["31NEA", "33UXP0400085000"]))
    other = ["33UXP0400085000", "31NEA"]
    lons = plugins.mgrs_to_lon(pa.array(other)).to_pylist()
    want = [mgrs_to_latlon(r) for r in other]
    assert lons == pytest.approx([w[1] for w in want if w is not None], abs=TOLERANCE)


def test_duckdb_calls() -> None:
    conn = duckdb.connect()
    plugins.register(conn)
    refs = [
        *REFS,
        *(_MGRS.toMGRS(i / 50 - 10, i / 20 + 10, MGRSPrecision=i % 6) for i in range(3000)),
    ]
    conn.register("refs", pa.table({"i": range(len(refs)), "r": refs}))
    rows = conn.execute("select mgrs_to_lat(r), mgrs_to_lon(r) from refs order by i").fetchall()
    assert_as_package(refs, [None if a is None else (a, b) for a, b in rows])
