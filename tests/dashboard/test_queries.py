"""The dashboard's query logic against a small hand-made published dataset (no browser)."""

from __future__ import annotations

import json
import os
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pytest

from ingest.publish import reader
from ingest.publish.writer import switch_current
from ingest.releasability import allowed_audiences
from ingest.serve.dashboard import queries as q

V1 = "20261101T000000.000000Z"
V2 = "20261102T000000.000000Z"

SCHEMA = """
CREATE TABLE dim_locations (admin2_pcode VARCHAR, admin2_name VARCHAR, admin1_pcode VARCHAR,
    admin1_name VARCHAR);
INSERT INTO dim_locations VALUES ('A101', 'North One', 'A1', 'North'),
    ('A102', 'North Two', 'A1', 'North'), ('A201', 'South One', 'A2', 'South');
CREATE TABLE dim_agencies (agency_id VARCHAR, agency_name VARCHAR);
INSERT INTO dim_agencies VALUES ('un', 'United Nations'), ('gov', 'Government'),
    ('ngo', 'Aid NGO'), ('army', 'Army');
CREATE TABLE fct_incidents (incident_id VARCHAR, occurred_on DATE, incident_type VARCHAR,
    fatalities INTEGER, latitude DOUBLE, longitude DOUBLE, admin1_pcode VARCHAR,
    admin2_pcode VARCHAR, agency_ids VARCHAR[], confidence DOUBLE);
INSERT INTO fct_incidents VALUES
    ('i1', '2026-10-01', 'battle', 2, 8.1, 20.1, 'A1', 'A101', ['un'], 0.9),
    ('i2', '2026-10-02', 'riot', 0, 8.2, 20.2, 'A1', 'A102', ['un', 'gov'], 0.8),
    ('i3', '2026-10-05', 'battle', 5, 7.1, 21.1, 'A2', 'A201', ['gov'], 0.7),
    ('i4', '2026-10-09', 'riot', 1, NULL, NULL, 'A2', 'A201', ['gov'], 0.5);
CREATE TABLE fct_aid_deliveries (delivery_id VARCHAR, delivered_on DATE, agency_id VARCHAR,
    organisation_name VARCHAR, cluster_code VARCHAR, cluster_name VARCHAR,
    beneficiaries INTEGER, latitude DOUBLE, longitude DOUBLE, admin1_pcode VARCHAR,
    admin2_pcode VARCHAR);
INSERT INTO fct_aid_deliveries VALUES
    ('d1', '2026-10-01', 'ngo', 'Org A', 'FSC', 'Food Security', 100, 8.1, 20.1, 'A1', 'A101'),
    ('d2', '2026-10-03', 'ngo', 'Org B', 'HEA', 'Health', 50, 8.2, 20.2, 'A1', 'A102'),
    ('d3', '2026-10-06', 'un', 'Org C', 'FSC', 'Food Security', 70, 7.1, 21.1, 'A2', 'A201');
CREATE TABLE fct_patrols (patrol_id VARCHAR, started_on DATE, agency_id VARCHAR,
    patrol_type VARCHAR, latitude DOUBLE, longitude DOUBLE, admin1_pcode VARCHAR,
    admin2_pcode VARCHAR);
INSERT INTO fct_patrols VALUES
    ('p1', '2026-10-01', 'army', 'escort', 8.1, 20.1, 'A1', 'A101'),
    ('p2', '2026-10-06', 'army', 'presence', 7.1, 21.1, 'A2', 'A201');
CREATE TABLE coordination_coverage_gaps (admin2_pcode VARCHAR, admin1_pcode VARCHAR,
    gap_days INTEGER, incident_count BIGINT, uncovered_incident_count BIGINT,
    uncovered_fatalities BIGINT, first_uncovered_at TIMESTAMPTZ, last_uncovered_at TIMESTAMPTZ,
    last_delivery_at TIMESTAMPTZ);
INSERT INTO coordination_coverage_gaps VALUES
    ('A201', 'A2', 4, 2, 2, 6, '2026-10-05 10:00:00+00', '2026-10-09 10:00:00+00', NULL),
    ('A102', 'A1', 1, 1, 1, 0, '2026-10-02 10:00:00+00', '2026-10-02 10:00:00+00', NULL);
CREATE TABLE coordination_duplication (duplication_id VARCHAR, admin2_pcode VARCHAR,
    admin1_pcode VARCHAR, cluster_code VARCHAR, cluster_name VARCHAR, week_start DATE,
    organisation_count BIGINT, organisations VARCHAR[], delivery_count BIGINT,
    beneficiaries BIGINT);
INSERT INTO coordination_duplication VALUES
    ('x1', 'A101', 'A1', 'FSC', 'Food Security', '2026-09-28', 2, ['Org A', 'Org D'], 2, 150),
    ('x2', 'A201', 'A2', 'HEA', 'Health', '2026-10-05', 3, ['Org B', 'Org C', 'Org E'], 3, 90);
CREATE TABLE coordination_deconfliction (deconfliction_id VARCHAR, patrol_id VARCHAR,
    delivery_id VARCHAR, patrol_agency_id VARCHAR, delivery_agency_id VARCHAR,
    organisation_name VARCHAR, patrol_started_at TIMESTAMPTZ, patrol_ended_at TIMESTAMPTZ,
    delivered_at TIMESTAMPTZ, distance_km DOUBLE, hours_apart DOUBLE, admin2_pcode VARCHAR);
INSERT INTO coordination_deconfliction VALUES
    ('c1', 'p1', 'd1', 'army', 'ngo', 'Org A', '2026-10-01 08:00:00+00',
     '2026-10-01 12:00:00+00', '2026-10-01 23:30:00+00', 1.5, 2.0, 'A101'),
    ('c2', 'p2', 'd3', 'army', 'un', 'Org C', '2026-10-06 08:00:00+00',
     '2026-10-06 12:00:00+00', '2026-10-06 09:00:00+00', 0.5, 0.0, 'A201');
CREATE TABLE coordination_agency_timeliness (agency_id VARCHAR, week_start DATE,
    event_count BIGINT, report_count BIGINT, correction_count BIGINT, retraction_count BIGINT,
    lag_hours_median DOUBLE, lag_hours_p90 DOUBLE, complete_share DOUBLE,
    quarantine_rate DOUBLE);
INSERT INTO coordination_agency_timeliness VALUES
    ('un', '2026-10-05', 10, 9, 1, 0, 3.5, 12.0, 0.9, 0.01),
    ('gov', '2026-10-05', 5, 5, 0, 0, 30.0, 70.0, 0.6, 0.1);
CREATE TABLE fct_incident_history (event_id VARCHAR, record_key VARCHAR, agency_id VARCHAR,
    known_from TIMESTAMPTZ, known_to TIMESTAMPTZ, occurred_at TIMESTAMPTZ,
    admin1_pcode VARCHAR, admin2_pcode VARCHAR);
-- r1 known on 10-02, corrected on 10-04; r2 known on 10-02, retracted on 10-05;
-- r3 known from 10-06
INSERT INTO fct_incident_history VALUES
    ('e1', 'r1', 'un', '2026-10-02 00:00:00+00', '2026-10-04 00:00:00+00',
     '2026-10-01 10:00:00+00', 'A1', 'A101'),
    ('e2', 'r1', 'un', '2026-10-04 00:00:00+00', NULL, '2026-10-01 10:00:00+00', 'A1', 'A101'),
    ('e3', 'r2', 'gov', '2026-10-02 00:00:00+00', '2026-10-05 00:00:00+00',
     '2026-10-02 10:00:00+00', 'A2', 'A201'),
    ('e4', 'r3', 'gov', '2026-10-06 00:00:00+00', NULL, '2026-10-05 10:00:00+00', 'A2', 'A201');
"""


def _db(path: Path, *, drop: tuple[str, ...] = ()) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    con.execute(SCHEMA)
    for table in drop:
        con.execute(f"DROP TABLE {table}")
    con.close()
    return path


def _version(root: Path, name: str, as_of: str) -> Path:
    vdir = root / "published" / name
    _db(vdir / "mission" / "unified.duckdb")
    _db(vdir / "public" / "unified.duckdb", drop=("fct_patrols", "coordination_deconfliction"))
    (vdir / "manifest.json").write_text(json.dumps({"version": name, "as_of": as_of}))
    return vdir


def _published(path: Path) -> Path:
    _version(path, V1, "2026-11-01T00:00:00+00:00")
    _version(path, V2, "2026-11-02T00:00:00+00:00")
    switch_current(path, V1)
    # Debris a reader must ignore: a half-written publish and a version without manifest.
    (path / "published" / f".tmp-{V2}").mkdir()
    (path / "published" / "20261103T000000.000000Z").mkdir()
    return path


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    """Shared by the tests that only read (building the databases takes a while)."""
    return _published(tmp_path_factory.mktemp("dash"))


@pytest.fixture(scope="module")
def con(root: Path):
    with q.open_readonly(reader.audience_db(root / "published" / V1, "mission")) as c:
        yield c


def test_list_versions_newest_first_with_as_of_and_current(root):
    found = reader.list_versions(root)
    assert [v.name for v in found] == [V2, V1]
    assert [v.is_current for v in found] == [False, True]
    assert found[1].as_of == "2026-11-01T00:00:00+00:00"
    assert found[0].audiences == ("public", "mission")
    assert "(current)" in found[1].label() and "2026-11-01 00:00:00" in found[1].label()


def test_a_historical_version_is_labelled_so(tmp_path):
    vdir = _version(tmp_path, V1, "2026-10-20T00:00:00+00:00")
    manifest = {"version": V1, "as_of": "2026-10-20T00:00:00+00:00", "historical": True}
    (vdir / "manifest.json").write_text(json.dumps(manifest))
    (found,) = reader.list_versions(tmp_path)
    assert found.historical and not found.is_current
    assert found.label().startswith("historical: as known at 2026-10-20 00:00:00 UTC")


@pytest.mark.parametrize(
    ("moment", "then", "added", "corrected", "gone"),
    [
        ("2026-10-03", {"A1": 1, "A2": 1}, 1, 1, 1),  # before the correction and retraction
        ("2026-10-05", {"A1": 1}, 1, 0, 0),  # r2 retracted by then, r3 not yet known
        ("2026-10-07", {"A1": 1, "A2": 1}, 0, 0, 0),  # as now
    ],
)
def test_incident_reports_as_known_then_and_now(con, moment, then, added, corrected, gone):
    at = datetime.fromisoformat(moment).replace(tzinfo=UTC)
    known = q.known_then_vs_now(con, at, q.Filters())
    assert list(known.columns) == q.KNOWN_COLUMNS
    assert {r.admin1_pcode: r.reports_then for r in known.itertuples() if r.reports_then} == then
    assert known["reports_now"].sum() == 2
    sums = (known["added_since"].sum(), known["corrected_since"].sum(), known["gone_since"].sum())
    assert sums == (added, corrected, gone)
    only_a1 = q.known_then_vs_now(con, at, q.Filters(admin1=("A1",)))
    assert list(only_a1["admin1_pcode"]) == ["A1"]


def test_current_is_resolved_at_each_call_and_follows_a_switch(tmp_path):
    root = _published(tmp_path)
    assert reader.pick_version(root, reader.CURRENT) == (root / "published" / V1).resolve()
    switch_current(root, V2)
    assert reader.pick_version(root, reader.CURRENT) == (root / "published" / V2).resolve()
    assert [v.is_current for v in reader.list_versions(root)] == [True, False]


def test_pick_version_accepts_only_complete_kept_versions(root):
    assert reader.pick_version(root, V2) == root / "published" / V2
    assert reader.pick_version(root, "20261103T000000.000000Z") is None  # no manifest
    assert reader.pick_version(root, "../published/" + V1) is None
    assert reader.pick_version(root, "nonsense") is None


def test_no_published_dataset(tmp_path):
    assert reader.list_versions(tmp_path) == []
    assert reader.pick_version(tmp_path, reader.CURRENT) is None


def test_audiences():
    assert allowed_audiences(None) == ("public", "partners", "mission")
    assert allowed_audiences(" mission, public,mission ") == ("mission", "public")
    with pytest.raises(ValueError):
        allowed_audiences("restricted")
    with pytest.raises(ValueError):
        reader.audience_db(Path("/x"), "restricted")


def test_connection_is_read_only_and_closed(tmp_path):
    path = _db(tmp_path / "unified.duckdb")
    with q.open_readonly(path) as c:
        with pytest.raises(duckdb.Error):
            c.execute("DELETE FROM fct_incidents")
        assert c.execute("SELECT count(*) FROM fct_incidents").fetchone()[0] == 4
    with pytest.raises(duckdb.Error):
        c.execute("SELECT 1")
    # Closed: a writer can open the file again.
    duckdb.connect(str(path)).close()


def test_filter_options(con):
    opts = q.filter_options(con)
    assert (opts.min_date, opts.max_date) == (date(2026, 10, 1), date(2026, 10, 9))
    assert opts.admin1 == {"A1": "North", "A2": "South"}
    assert opts.admin2["A102"] == ("North Two", "A1")
    assert set(opts.agencies) == {"un", "gov", "ngo", "army"}
    assert opts.sectors == {"FSC": "Food Security", "HEA": "Health"}


def test_headline_without_filter(con):
    assert q.headline(con, q.Filters()) == {
        "incidents": 4,
        "fatalities": 8,
        "deliveries": 3,
        "beneficiaries": 220,
        "patrols": 2,
        "deconfliction_alerts": 2,
    }


@pytest.mark.parametrize(
    ("filters", "incidents", "deliveries", "patrols", "alerts"),
    [
        (q.Filters(start=date(2026, 10, 2), end=date(2026, 10, 5)), 2, 1, 0, 0),
        (q.Filters(start=date(2026, 10, 6)), 1, 1, 1, 1),
        (q.Filters(end=date(2026, 10, 1)), 1, 1, 1, 1),
        (q.Filters(admin1=("A1",)), 2, 2, 1, 1),
        (q.Filters(admin2=("A102", "A201")), 3, 2, 1, 1),
        (q.Filters(admin1=("A1",), admin2=("A201",)), 0, 0, 0, 0),
        (q.Filters(agencies=("gov",)), 3, 0, 0, 0),  # any reporting agency
        (q.Filters(agencies=("un",)), 2, 1, 0, 1),
        (q.Filters(agencies=("army",)), 0, 0, 2, 2),
        (q.Filters(sectors=("FSC",)), 4, 2, 2, 2),  # sector: deliveries only
        (q.Filters(sectors=("HEA",)), 4, 1, 2, 0),
    ],
)
def test_filters(con, filters, incidents, deliveries, patrols, alerts):
    numbers = q.headline(con, filters)
    assert numbers["incidents"] == incidents == len(q.incidents(con, filters))
    assert numbers["deliveries"] == deliveries == len(q.deliveries(con, filters))
    assert numbers["patrols"] == patrols == len(q.patrols(con, filters))
    assert numbers["deconfliction_alerts"] == alerts == len(q.deconfliction(con, filters))


def test_map_points_skip_unlocated_rows(con):
    points = q.map_points(con, q.Filters())
    assert points.groupby("layer").size().to_dict() == {"delivery": 3, "incident": 3, "patrol": 2}
    assert points[["latitude", "longitude"]].notna().all().all()


def test_map_points_past_max_dots_are_counted_per_grid_cell(con, monkeypatch):
    """A 1M-event log has hundreds of thousands of located records: past max_dots the map
    gets one dot per layer and cell with its count, and no record is lost."""
    exact = q.map_points(con, q.Filters())
    assert set(exact["n"]) == {1} and len(exact) == 8
    monkeypatch.setattr(q, "GRID", 0.5)  # one cell wider than every point's extent
    binned = q.map_points(con, q.Filters(), max_dots=len(exact) - 1)
    assert sorted(binned["layer"]) == ["delivery", "incident", "patrol"]
    assert binned.groupby("layer")["n"].sum().to_dict() == {
        "delivery": 3,
        "incident": 3,
        "patrol": 2,
    }
    assert list(binned.columns) == q.POINT_COLUMNS


def test_deconfliction_closest_first_up_to_a_limit(con):
    every = q.deconfliction(con, q.Filters())
    first = q.deconfliction(con, q.Filters(), limit=1)
    assert len(every) == q.deconfliction_count(con, q.Filters()) == 2
    assert first.to_dict("records") == every.head(1).to_dict("records")


def test_daily_counts(con):
    daily = q.daily_counts(con, q.Filters(admin1=("A2",)))
    assert sorted(zip(daily["kind"], daily["day"].astype(str), daily["n"], strict=True)) == [
        ("deliveries", "2026-10-06", 1),
        ("incidents", "2026-10-05", 1),
        ("incidents", "2026-10-09", 1),
        ("patrols", "2026-10-06", 1),
    ]


def test_coverage_gaps_overlap_the_date_range(con):
    assert list(q.coverage_gaps(con, q.Filters())["admin2_pcode"]) == ["A201", "A102"]
    assert q.coverage_gaps(con, q.Filters())["admin2_name"].tolist() == ["South One", "North Two"]
    in_range = q.coverage_gaps(con, q.Filters(start=date(2026, 10, 6), end=date(2026, 10, 7)))
    assert list(in_range["admin2_pcode"]) == ["A201"]
    assert list(q.coverage_gaps(con, q.Filters(admin1=("A1",)))["admin2_pcode"]) == ["A102"]


def test_duplication_weeks_and_sectors(con):
    # The week of 2026-09-28 overlaps a range starting 2026-10-01.
    assert len(q.duplication(con, q.Filters(start=date(2026, 10, 1), end=date(2026, 10, 4)))) == 1
    assert len(q.duplication(con, q.Filters(start=date(2026, 10, 5)))) == 1
    assert list(q.duplication(con, q.Filters(sectors=("HEA",)))["admin2_pcode"]) == ["A201"]


def test_deconfliction_filters(con):
    # delivered_at 23:30 UTC on 2026-10-01 is that UTC day, whatever the local zone.
    assert list(q.deconfliction(con, q.Filters(end=date(2026, 10, 1)))["deconfliction_id"]) == [
        "c1"
    ]
    assert list(q.deconfliction(con, q.Filters(sectors=("FSC",)))["deconfliction_id"]) == [
        "c2",
        "c1",
    ]  # ordered by distance
    assert list(q.deconfliction(con, q.Filters(admin1=("A2",)))["deconfliction_id"]) == ["c2"]
    assert list(q.deconfliction(con, q.Filters(agencies=("ngo",)))["deconfliction_id"]) == ["c1"]


def test_timeliness_filters_by_agency_only(con):
    assert list(q.timeliness(con, q.Filters())["agency_id"]) == ["gov", "un"]
    f = q.Filters(agencies=("un",), start=date(2030, 1, 1), admin1=("A1",))
    assert list(q.timeliness(con, f)["agency_id"]) == ["un"]


def test_missing_tables_give_empty_views(root):
    with q.open_readonly(reader.audience_db(root / "published" / V1, "public")) as c:
        assert q.headline(c, q.Filters())["patrols"] == 0
        assert q.headline(c, q.Filters())["deconfliction_alerts"] == 0
        assert q.patrols(c, q.Filters()).empty
        assert list(q.patrols(c, q.Filters()).columns) == q.PATROL_COLUMNS
        assert q.map_points(c, q.Filters())["layer"].unique().tolist() == ["incident", "delivery"]


def test_dashboard_command_line_is_local_and_quiet():
    from ingest.commands.dashboard import streamlit_args

    args = streamlit_args(Path("app.py"), host="127.0.0.1", port=9999)
    pairs = dict(zip(args[5::2], args[6::2], strict=False))
    assert pairs["--server.headless"] == "true"
    assert pairs["--browser.gatherUsageStats"] == "false"
    assert pairs["--server.address"] == "127.0.0.1"
    assert pairs["--server.port"] == "9999"
    assert os.path.basename(args[4]) == "app.py"


def test_admin_boundaries_from_the_country_pack(tmp_path, monkeypatch):
    """The map's outlines come from the pack's WKT; admin1 areas without their own are the
    union of their districts. Without a registry the map has none (and no error)."""
    repo = Path(__file__).resolve().parents[2]
    monkeypatch.setenv("PEACEOPS_FEEDS", str(repo / "feeds.yaml"))
    bounds = q.admin_boundaries(tmp_path)
    assert len(bounds["admin1"]) == 8 and len(bounds["admin2"]) == 32
    district = next(a for a in bounds["admin2"] if a["pcode"] == "CR0101")
    # GeoJSON for Vega's geoshape, the ring clockwise (d3-geo reads an anticlockwise one
    # as the rest of the globe)
    assert district["geometry"]["type"] == "Polygon"
    ring = [list(xy) for xy in district["geometry"]["coordinates"][0]]
    assert ring == [[20.0, 6.0], [20.0, 7.0], [20.5, 7.0], [20.5, 6.0], [20.0, 6.0]]
    assert district["admin1_pcode"] == "CR01"
    region = next(a for a in bounds["admin1"] if a["pcode"] == "CR01")
    assert region["name"] == "Kalari" and region["geometry"]["type"] == "Polygon"
    lons = [x for x, _ in region["geometry"]["coordinates"][0]]
    lats = [y for _, y in region["geometry"]["coordinates"][0]]
    # the union of its four districts' rectangles, not one of them
    assert (min(lons), max(lons), min(lats), max(lats)) == (20.0, 21.0, 6.0, 8.0)
    assert any(a["name"] == "Côte-Ouest" for a in bounds["admin1"])  # accents kept
    monkeypatch.setenv("PEACEOPS_FEEDS", str(tmp_path / "missing.yaml"))
    assert q.admin_boundaries(tmp_path) == {"admin1": [], "admin2": []}


def test_one_colour_blind_safe_palette_declared_once():
    from ingest.serve.dashboard import palette

    app = (Path(q.__file__).parent / "app.py").read_text(encoding="utf-8")
    colours = set(palette.COLOURS.values())
    assert len(colours) == 3
    # the app takes every entity colour from the palette, none of its own
    assert not any(c.lower() in app.lower() for c in colours)
    assert "[215, 48, 39" not in app and "LAYER_COLOURS" not in app
    assert palette.scale_domain() == ["incidents", "deliveries", "patrols"]
    assert palette.legend().count("●") == 3 and "vermillion" in palette.legend()
    assert palette.rgba("patrol") == [0, 114, 178, 255]
