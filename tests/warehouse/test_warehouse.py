"""The dbt warehouse on a small, hand-made event log, with the real dbt (no mocks).

One module-scoped scenario is built as a chain of incremental builds (one per load),
snapshotted, then rebuilt with --full-refresh and as of a past moment; the tests
read the resulting warehouses. Covers: folding (corrections replace, retractions
remove, supersedes chains), as_of, full refresh == incremental chain, cross-agency
resolution, coordination marts, normalisation issues (nothing dropped silently),
enforced contracts and releasability.
"""

from __future__ import annotations

import csv
import itertools
import json
import math
import re
import shutil

import duckdb
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.warehouse.plugins import register
from ingest.warehouse.runner import build, dbt_target_path, warehouse_path

from .logbuilder import (
    EARTH_KM,
    REPO,
    append,
    begin,
    feeds,
    finish,
    project_registry,
    query,
    snapshot,
    utc,
)

CARANA = REPO / "packs" / "carana"
MARTS = (
    "fct_incidents",
    "fct_incident_history",
    "fct_aid_deliveries",
    "fct_patrols",
    "dim_agencies",
    "dim_locations",
    "dim_dates",
    "normalisation_issues",
    "coordination_coverage_gaps",
    "coordination_duplication",
    "coordination_deconfliction",
    "coordination_agency_timeliness",
    "coordination_quarantine_counts",
)
INTERMEDIATE = (
    "int_incidents_folded",
    "int_deliveries_folded",
    "int_patrols_folded",
    "int_incidents_resolved",
)


def places() -> list[dict[str, str]]:
    """Two places in different admin2 areas, from the demo's country pack."""
    with open(CARANA / "places.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    first = rows[0]
    second = next(r for r in rows if r["admin2_pcode"] != first["admin2_pcode"])
    return [first, second]


def mgrs_of(lat: float, lon: float) -> str:
    import mgrs

    return mgrs.MGRS().toMGRS(lat, lon)


def scenario() -> list[tuple[str, dict[str, list[dict[str, str | None]]]]]:
    a, b = places()
    la, lo = float(a["latitude"]), float(a["longitude"])
    return [
        (
            "2026-10-02T12:00:00",
            {
                "unmic.sitreps": [
                    # one incident reported by three agencies (see moi M-1, cpn C-1)
                    {
                        "report_id": "SR-1",
                        "occurred_at": "2026-10-02T10:00:00Z",
                        "incident_type": "ARMED_CLASH",
                        "lat": str(la),
                        "lon": str(lo),
                        "fatalities": "2",
                        "classification": "mission",
                    },
                    # an agency code nobody mapped: flagged, excluded, listed
                    {
                        "report_id": "SR-2",
                        "occurred_at": "2026-10-02T11:00:00Z",
                        "incident_type": "WHAT",
                        "location": b["place_name"],
                    },
                    {
                        "report_id": "SR-3",
                        "occurred_at": "2026-10-01T08:00:00Z",
                        "incident_type": "IED",
                        "location": b["place_name"],
                        "classification": "restricted",
                    },
                ],
                "moi.incidents": [
                    {
                        "Incident No": "M-1",
                        "Date": "02/10/2026",
                        "Time": "13:05",
                        "Type": "Affrontement armé",
                        "Place": a["place_name"].upper(),
                        "Killed": "3",
                    },
                ],
                "cpn.incidents": [
                    {
                        "uid": "C-1",
                        "date": "2026-10-02",
                        "type": "affrontement",
                        "lieu": a["place_name"],
                    },
                ],
                "ocha.deliveries": [
                    {
                        "#activity+id": "A-1",
                        "#date": "03/10/2026",
                        "#org": "NGO-X",
                        "#sector": "Health",
                        "#indicator+value": "100",
                        "#indicator+unit": "kits",
                        "#adm2+code": a["admin2_pcode"],
                    },
                    {
                        "#activity+id": "A-2",
                        "#date": "02/10/2026",
                        "#org": "NGO-Y",
                        "#sector": "Health",
                        "#indicator+value": "1.5",
                        "#indicator+unit": "t",
                        "#geo+lat": str(la + 0.01),
                        "#geo+lon": str(lo),
                    },
                ],
                "forcar.patrols": [
                    {
                        "id_patrouille": "FP-1",
                        "gdh_depart": "021000ZOCT26",
                        "gdh_retour": "021600ZOCT26",
                        "mgrs": mgrs_of(la, lo),
                        "type_patrouille": "escorte",
                    },
                ],
                "ncbatt.patrols": [
                    {
                        "patrol_ref": "NP-1",
                        "start_dtg": "021400BOCT26",
                        "grid": "not a grid",
                        "task": "recce",
                    },
                ],
            },
        ),
        (
            "2026-10-04T08:00:00",
            {
                "unmic.sitreps": [
                    {
                        "report_id": "SR-1b",
                        "classification": "mission",
                        "supersedes": "SR-1",
                        "occurred_at": "2026-10-02T10:30:00Z",
                        "incident_type": "ARMED_CLASH",
                        "lat": str(la),
                        "lon": str(lo),
                        "fatalities": "5",
                    },
                    {
                        "report_id": "SR-3",
                        "status": "retracted",
                        "classification": "mission",
                        "occurred_at": "2026-10-01T08:00:00Z",
                    },
                ],
                "moi.incidents": [
                    {
                        "Incident No": "M-2",
                        "Date": "20/10/2026",
                        "Time": "09:00",
                        "Type": "Pillage",
                        "Place": b["place_name"],
                    },
                ],
            },
        ),
        (
            "2026-10-06T08:00:00",
            {
                # a chain: SR-1c corrects SR-1b which corrected SR-1
                "unmic.sitreps": [
                    {
                        "report_id": "SR-1c",
                        "classification": "mission",
                        "supersedes": "SR-1b",
                        "occurred_at": "2026-10-02T10:30:00Z",
                        "incident_type": "ARMED_CLASH",
                        "lat": str(la),
                        "lon": str(lo),
                        "fatalities": "6",
                    },
                ],
                # a correction whose target has not arrived yet (see next load)
                "cpn.incidents": [
                    {
                        "uid": "C-1c",
                        "corrige": "C-1b",
                        "date": "2026-10-02",
                        "type": "affrontement",
                        "lieu": a["place_name"],
                        "morts": "7",
                    },
                ],
            },
        ),
        (
            "2026-10-07T08:00:00",
            {
                "cpn.incidents": [
                    {
                        "uid": "C-1b",
                        "corrige": "C-1",
                        "date": "2026-10-02",
                        "type": "affrontement",
                        "lieu": a["place_name"],
                        "morts": "1",
                    },
                ],
            },
        ),
    ]


def late_patrol(place: dict[str, str]) -> list[dict[str, str | None]]:
    return [
        {
            "id_patrouille": "FP-2",
            "gdh_depart": "040600ZOCT26",
            "gdh_retour": "041000ZOCT26",
            "mgrs": mgrs_of(float(place["latitude"]), float(place["longitude"])),
            "type_patrouille": "reconnaissance",
        },
    ]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("warehouse")
    registry = feeds(root)
    results = []
    for i, (recorded, loads) in enumerate(scenario()):
        late = None
        if i == 1:
            # a slow ingest: begun before this step's loads, committed only after its build,
            # so its load id is older than loads the warehouse already holds
            late = begin(root, registry["forcar.patrols"], late_patrol(places()[1]), utc(recorded))
        for feed_id, rows in loads.items():
            append(root, registry[feed_id], rows, utc(recorded))
        last = i == len(scenario()) - 1
        # incremental chain: dbt run after each load, dbt build (with tests) after the last
        results.append(
            build(root, registry=project_registry(root), test=last, full_refresh=(i == 0))
        )
        if late is not None:
            finish(late)
    db = warehouse_path(root)
    incremental = {**snapshot(db, MARTS, "marts"), **snapshot(db, INTERMEDIATE, "intermediate")}
    shutil.copy(db, root / "incremental.duckdb")
    full = build(root, registry=project_registry(root), full_refresh=True)
    full_snap = {**snapshot(db, MARTS, "marts"), **snapshot(db, INTERMEDIATE, "intermediate")}
    shutil.copy(db, root / "full.duckdb")
    past = build(root, registry=project_registry(root), as_of=utc("2026-10-03T00:00:00"))
    shutil.copy(db, root / "past.duckdb")
    # while cpn's correction C-1c waited for C-1b, the correction it corrects
    waiting = build(root, registry=project_registry(root), as_of=utc("2026-10-06T12:00:00"))
    shutil.copy(db, root / "waiting.duckdb")
    return {
        "root": root,
        "results": [*results, full, past, waiting],
        "incremental": incremental,
        "full": full_snap,
        "db": root / "full.duckdb",
        "past": root / "past.duckdb",
        "waiting": root / "waiting.duckdb",
    }


def test_every_build_succeeds(built: dict) -> None:
    for result in built["results"]:
        assert result.ok, result.failures
        assert result.invocation_id


def test_full_refreshes_run_the_dbt_unit_tests(built: dict) -> None:
    # the last build (as of a past moment) is a full refresh: it ran every unit test
    results = json.loads((dbt_target_path(built["root"]) / "run_results.json").read_text())
    unit = {
        r["unique_id"]: r["status"]
        for r in results["results"]
        if r["unique_id"].startswith("unit_test.")
    }
    declared = [
        t["name"]
        for path in (REPO / "dbt_project" / "models").rglob("*.yml")
        for t in (yaml.safe_load(path.read_text()) or {}).get("unit_tests", [])
    ]
    assert len(declared) >= 5
    assert len(unit) == len(declared) and set(unit.values()) == {"pass"}, unit


def test_full_refresh_equals_incremental_chain(built: dict) -> None:
    for table in (*MARTS, *INTERMEDIATE):
        assert built["incremental"][table] == built["full"][table], table
    assert built["full"]["fct_incidents"], "scenario produced no incidents"


def test_late_committed_older_load_is_built(built: dict) -> None:
    # FP-2's load id is older than loads built before it was committed (see `built`)
    for snap in ("incremental", "full"):
        patrols = [r for r in built[snap]["int_patrols_folded"] if "FP-2" in r]
        assert len(patrols) == 1, snap


def test_correction_replaces_and_chain_folds_to_root(built: dict) -> None:
    rows = query(
        built["db"],
        "select record_id, fatalities, event_count, correction_count, is_retracted "
        "from intermediate.int_incidents_folded where record_key = 'unmic.sitreps:SR-1'",
    )
    assert rows == [("SR-1c", 6, 3, 2, False)]


def test_retraction_removes(built: dict) -> None:
    (retracted,) = query(
        built["db"],
        "select is_retracted from intermediate.int_incidents_folded "
        "where record_key = 'unmic.sitreps:SR-3'",
    )[0]
    assert retracted
    assert not query(
        built["db"],
        "select 1 from marts.fct_incidents where list_contains(source_record_keys, 'unmic.sitreps:SR-3')",
    )


def test_late_chain_link_rekeys_waiting_correction(built: dict) -> None:
    rows = query(
        built["db"],
        "select record_key, count(*) from intermediate.int_events_keyed "
        "where feed_id = 'cpn.incidents' group by all",
    )
    assert rows == [("cpn.incidents:C-1", 3)]
    assert query(
        built["db"],
        "select count(*) from intermediate.int_incidents_folded where feed_id = 'cpn.incidents'",
    ) == [(1,)]


def test_a_waiting_correction_folds_alone_as_a_correction(built: dict) -> None:
    # a record of one event skips the fold's ordering: its counts are still its event's
    rows = query(
        built["waiting"],
        "select record_id, event_count, correction_count from intermediate.int_incidents_folded "
        "where feed_id = 'cpn.incidents' order by record_id",
    )
    assert rows == [("C-1", 1, 0), ("C-1c", 1, 1)]


def test_as_of_build_sees_only_what_was_known(built: dict) -> None:
    rows = query(
        built["past"],
        "select record_id, fatalities, is_retracted from intermediate.int_incidents_folded "
        "where record_key in ('unmic.sitreps:SR-1', 'unmic.sitreps:SR-3') order by record_key",
    )
    assert rows == [("SR-1", 2, False), ("SR-3", None, False)]
    assert query(
        built["past"],
        "select count(*) from marts.fct_incidents where incident_type = 'Strategic developments'",
    ) == [(0,)]


KNOWN_AT = (
    "select event_id from marts.fct_incident_history where known_from <= {t} "
    "and (known_to is null or known_to > {t}) order by event_id"
)


def test_the_history_as_known_at_a_moment_is_the_as_of_build(built: dict) -> None:
    """Time travel on the data: the versions the history says were known at a moment are
    the reports a build as of that moment holds."""
    then = query(built["db"], KNOWN_AT.format(t="timestamptz '2026-10-03 00:00:00+00'"))
    past = query(built["past"], KNOWN_AT.format(t="now()"))
    assert then and then == past
    assert then != query(built["db"], KNOWN_AT.format(t="now()")), "nothing changed since"
    # SR-1 was corrected later: two versions, one interval ending where the next begins
    rows = query(
        built["db"],
        "select version, known_from, known_to, ended_by, fatalities from marts.fct_incident_history "
        "where record_key = 'unmic.sitreps:SR-1' order by known_from",
    )
    assert len(rows) >= 2 and rows[0][2] == rows[1][1] and rows[0][3] == "corrected"
    assert rows[-1][2] is None and rows[-1][3] is None


def test_history_rows_are_shared_no_wider_than_their_incident(built: dict) -> None:
    # a report is shared at its strictest marking and no wider than its unified incident
    # (SR-1, public itself, is in a mission incident with cpn's and moi's reports)
    wider = query(
        built["db"],
        "select history.event_id from marts.fct_incident_history as history "
        "join marts.fct_incidents as incidents using (incident_id) "
        "where list_position(['public', 'partners', 'mission', 'restricted'], "
        "history.releasability) < list_position(['public', 'partners', 'mission', "
        "'restricted'], incidents.releasability)",
    )
    assert wider == []
    levels = query(
        built["db"],
        "select distinct releasability from marts.fct_incident_history "
        "where record_key = 'unmic.sitreps:SR-1'",
    )
    assert levels == [("mission",)]


def test_cross_agency_resolution(built: dict) -> None:
    rows = query(
        built["db"],
        "select agency_ids, source_count, releasability, confidence from marts.fct_incidents "
        "where list_contains(source_record_keys, 'unmic.sitreps:SR-1')",
    )
    assert len(rows) == 1
    agency_ids, source_count, releasability, confidence = rows[0]
    assert agency_ids == ["cpn", "moi", "unmic"]
    assert source_count == 3
    assert releasability == "mission"  # strictest of public, partners, mission
    assert 0.9 < confidence < 1


def test_nothing_dropped_silently(built: dict) -> None:
    db = built["db"]
    for entity, fact in (
        ("incidents", None),
        ("deliveries", "fct_aid_deliveries"),
        ("patrols", "fct_patrols"),
    ):
        (current,) = query(
            db, f"select count(*) from intermediate.int_{entity}_folded where not is_retracted"
        )[0]
        (excluded,) = query(
            db,
            f"select count(distinct record_key) from marts.normalisation_issues "
            f"where entity = '{entity}' and is_excluded",
        )[0]
        if fact:
            (in_fact,) = query(db, f"select count(*) from marts.{fact}")[0]
        else:
            (in_fact,) = query(db, "select count(*) from intermediate.int_incidents_resolved")[0]
        assert current == in_fact + excluded, entity
    reasons = set(query(db, "select field, reason from marts.normalisation_issues"))
    assert ("incident_type", "unmapped_code") in reasons
    assert ("location", "invalid_mgrs") in reasons


def test_coordination_marts(built: dict) -> None:
    db = built["db"]
    dup = query(db, "select organisation_count, organisations from marts.coordination_duplication")
    assert dup == [(2, ["NGO-X", "NGO-Y"])]
    decon = query(
        db, "select patrol_id, delivery_id, hours_apart from marts.coordination_deconfliction"
    )
    assert decon == [("forcar.patrols:FP-1", "ocha.deliveries:A-2", 0.0)]
    gaps = query(db, "select uncovered_incident_count from marts.coordination_coverage_gaps")
    assert sum(g[0] for g in gaps) == 1  # M-2's area: no aid ever delivered there
    timeliness = query(
        db,
        "select agency_id, correction_count, lag_hours_median from marts.coordination_agency_timeliness "
        "where agency_id = 'unmic' order by week_start",
    )
    assert sum(r[1] for r in timeliness) == 2
    assert all(r[2] is not None and r[2] > 0 for r in timeliness)
    # every quarantined or excluded record of normalisation_issues, counted once per reason
    counted = query(
        db,
        "select stage, reason, sum(record_count), sum(excluded_record_count) "
        "from marts.coordination_quarantine_counts group by all order by all",
    )
    listed = query(
        db,
        "select stage, reason, count(distinct coalesce(record_key, issue_id)), "
        "count(distinct coalesce(record_key, issue_id)) filter (where is_excluded) "
        "from marts.normalisation_issues group by all order by all",
    )
    assert counted == listed and counted
    # one restricted record per reason: too few to leave the build (the aggregate rule)
    assert query(db, "select distinct releasability from marts.coordination_quarantine_counts") == [
        ("restricted",)
    ]


def test_contracts_are_enforced(built: dict) -> None:
    import yaml

    from tests.gate.factory import duckdb_type

    path = REPO / "dbt_project" / "models" / "marts" / "fct_incidents.yml"
    model = yaml.safe_load(path.read_text())["models"][0]
    assert model["config"]["contract"]["enforced"] is True
    declared = {c["name"]: duckdb_type(c["data_type"]) for c in model["columns"]}
    actual = dict(
        query(
            built["db"],
            "select column_name, lower(data_type) from information_schema.columns "
            "where table_schema = 'marts' and table_name = 'fct_incidents'",
        )
    )
    assert set(declared) == set(actual)


def compiled(built: dict, model: str) -> str:
    """A model's SQL as the last build compiled it (`model`: its path under models/),
    runnable on the built file opened under any name."""
    path = dbt_target_path(built["root"]) / "compiled" / "peaceops" / "models" / model
    return re.sub(r'"build-[a-z]+"\.', "", path.read_text())


def test_events_are_read_again_not_written_to_a_temporary_table(built: dict) -> None:
    # DuckDB writes a CTE read more than once to a temporary table. A staging model's
    # `source` (every event of the entity, read by one branch per feed) spilled 10 GB for
    # incidents at 10M events, and int_events_keyed's `new_events` 7 GB; inlined (macro
    # inlined), each feed's branch reads its own partition.
    ctes = {
        # (no presence feed here: that model's plan is empty)
        **{
            f"staging/stg_eventlog__{e}.sql": "source"
            for e in ("incidents", "deliveries", "patrols")
        },
        "intermediate/int_events_keyed.sql": "new_events",
    }
    con = duckdb.connect(str(warehouse_path(built["root"])), read_only=True)
    register(con, (str(CARANA),))
    try:
        for model, cte in ctes.items():
            plan = con.sql("explain " + compiled(built, model)).fetchall()[0][1]
            assert "Seq Scan" in plan or "Read Parquet" in plan, model  # a plan we can read
            assert f"CTE Name: {cte}" not in plan, model
    finally:
        con.close()


# A report for the grid test: agency, type, hours after the start, precision, point or
# none, admin2 area, fatalities.
GRID_REPORT = st.tuples(
    st.sampled_from(["a", "b", "c"]),
    st.sampled_from([("Battles", "Armed clash"), ("Riots", "Mob violence")]),
    st.floats(0, 96),
    st.sampled_from(["minute", "minute", "day"]),
    st.one_of(st.none(), st.tuples(st.floats(0, 0.3), st.floats(0, 0.3))),
    st.sampled_from(["A1", "A2"]),
    st.one_of(st.none(), st.integers(0, 3)),
)


def near(a: tuple, b: tuple, hours: float, km: float) -> bool:
    """Two grid-test reports resolution must compare: alike, of two agencies, at most
    `hours` apart (a day-precision report is its whole day), within `km` when both have
    a point, else in the same admin2 area."""
    (agency_a, kind_a, at_a, precision_a, point_a, admin2_a, _) = a
    (agency_b, kind_b, at_b, precision_b, point_b, admin2_b, _) = b
    ends_a = at_a + (24 if precision_a == "day" else 0)
    ends_b = at_b + (24 if precision_b == "day" else 0)
    if agency_a == agency_b or kind_a != kind_b or at_b > ends_a + hours or at_a > ends_b + hours:
        return False
    if point_a is None or point_b is None:
        return admin2_a == admin2_b
    (lat_a, lon_a), (lat_b, lon_b) = map(lambda p: map(math.radians, p), (point_a, point_b))
    h = (
        math.sin((lat_b - lat_a) / 2) ** 2
        + math.cos(lat_a) * math.cos(lat_b) * math.sin((lon_b - lon_a) / 2) ** 2
    )
    return 2 * EARTH_KM * math.asin(math.sqrt(h)) <= km


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(reports=st.lists(GRID_REPORT, min_size=2, max_size=30))
def test_the_grid_finds_every_near_pair_once(built: dict, reports: list[tuple]) -> None:
    # Resolution looks for a report's candidates in its own and half the neighbouring grid
    # cells and periods (docs/resolution.md): every pair near enough must be measured, and
    # none twice (complete link counts a cluster pair's candidates).
    ctes, _ = compiled(built, "intermediate/int_incidents_resolved.sql").split(",\n\ncosted as (")
    measured = (
        f"{ctes} select a.record_key, b.record_key from measured "
        "inner join reports as a on measured.report_a = a.report_number "
        "inner join reports as b on measured.report_b = b.report_number"
    )
    drawn = [
        (
            agency,
            kind,
            hours if precision == "minute" else hours // 24 * 24,
            precision,
            point,
            admin2,
            deaths,
        )
        for agency, kind, hours, precision, point, admin2, deaths in reports
    ]
    con = duckdb.connect()
    try:
        con.execute(f"attach '{built['db']}' as built (read_only)")
        con.execute("create schema intermediate")
        con.execute(
            "create table intermediate.int_incidents_folded as "
            "select * from built.intermediate.int_incidents_folded limit 0"
        )
        con.execute("detach built")
        con.executemany(
            "insert into intermediate.int_incidents_folded by name select "
            "$key as record_key, $agency as agency_id, $type as incident_type, "
            "$sub_type as incident_sub_type, timestamptz '2026-10-01 00:00:00+00' "
            "+ to_microseconds(cast($hours * 3600e6 as bigint)) as occurred_at, "
            "$precision as time_precision, $lat as latitude, $lon as longitude, "
            "$admin2 as admin2_pcode, $deaths as fatalities, "
            "false as is_retracted, false as is_excluded",
            [
                {
                    "key": f"f:{i:02}",
                    "agency": agency,
                    "type": kind[0],
                    "sub_type": kind[1],
                    "hours": hours,
                    "precision": precision,
                    "lat": point and point[0],
                    "lon": point and point[1],
                    "admin2": admin2,
                    "deaths": deaths,
                }
                for i, (agency, kind, hours, precision, point, admin2, deaths) in enumerate(drawn)
            ],
        )
        found = [frozenset(pair) for pair in con.sql(measured).fetchall()]
    finally:
        con.close()
    assert len(found) == len(set(found)), "a pair measured twice"
    limits = yaml.safe_load((REPO / "dbt_project" / "dbt_project.yml").read_text())["vars"]
    expected = {
        frozenset((f"f:{i:02}", f"f:{j:02}"))
        for i, j in itertools.combinations(range(len(drawn)), 2)
        if near(
            drawn[i],
            drawn[j],
            hours=limits["resolution_window_hours"],
            km=limits["resolution_distance_km"],
        )
    }
    assert expected <= set(found), expected - set(found)


def test_build_command_prints_progress(built: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from ingest.commands.build import command

    monkeypatch.setenv("PEACEOPS_DATA_DIR", str(built["root"]))
    monkeypatch.setenv("PEACEOPS_FEEDS", str(REPO / "feeds.yaml"))
    result = CliRunner().invoke(command, ["--select", "fct_patrols", "--no-test"])
    assert result.exit_code == 0, result.output
    assert "fct_patrols" in result.output
    assert "build ok" in result.output
