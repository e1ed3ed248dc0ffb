"""Need to know for content rows and aggregate rows (docs/need-to-know.md), as properties:
the releasability macros compiled by the real dbt, evaluated by DuckDB on generated
sources, then published by the real publish code."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.publish.writer import AUDIENCES, write_audience
from ingest.releasability import RELEASABILITY
from ingest.settings import Settings
from ingest.warehouse.runner import dbt_env

RANK = {level: i for i, level in enumerate(RELEASABILITY)}
# (aggregate_releasability, aggregate_minimum_count): the default level, and public
SETTINGS = (("partners", 3), ("public", 5))

# One coverage-gap row per area, one fct_incidents row per incident: each incident has
# its own sources, an area's count is its number of incidents.
RULES = """
with
incidents as (
    select area_pcode, incident_id,
        {{ strictest_releasability('releasability') }} as releasability
    from sources group by area_pcode, incident_id
),
areas as (
    select area_pcode,
        count(*) as uncovered_incident_count,
        list(incident_id order by incident_id) as incident_ids,
        min(incident_id) as first_uncovered,
        {{ strictest_releasability('releasability') }} as content_releasability
    from incidents group by area_pcode
)
select 'incidents' as mart, incident_id as id, null as n, null as content_releasability,
    releasability
from incidents
union all
select 'gaps', area_pcode, uncovered_incident_count, content_releasability,
    {{ aggregate_releasability('content_releasability', 'uncovered_incident_count') }}
from areas
"""


def compile_rules(root: Path, level: str, minimum: int) -> str:
    """The SQL dbt compiles RULES to, with the aggregate rule's settings as vars."""
    from dbt.cli.main import dbtRunner

    from ingest.warehouse.runner import _close_duckdb

    (root / "warehouse").mkdir(parents=True, exist_ok=True)
    saved = dict(os.environ)
    settings = Settings.resolve(data_dir=root)
    os.environ.update(dbt_env(settings))
    try:
        result = dbtRunner().invoke(
            [
                "compile",
                "--inline",
                RULES,
                "--vars",
                json.dumps({"aggregate_releasability": level, "aggregate_minimum_count": minimum}),
                "--project-dir",
                str(settings.dbt_project_dir),
                "--profiles-dir",
                str(settings.dbt_project_dir),
                "--target-path",
                str(root / "target"),
                "--log-path",
                str(root / "logs"),
                "--quiet",
            ]
        )
    finally:
        _close_duckdb()
        os.environ.clear()
        os.environ.update(saved)
    assert result.success, result.exception
    return result.result.results[0].node.compiled_code


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, int], str]:
    root = tmp_path_factory.mktemp("compile")
    return {s: compile_rules(root, *s) for s in SETTINGS}


# areas -> incidents -> the levels of each incident's sources
areas_strategy = st.lists(
    st.lists(
        st.lists(st.sampled_from(RELEASABILITY), min_size=1, max_size=3), min_size=1, max_size=7
    ),
    min_size=1,
    max_size=4,
)


def publish_generated(sql: str, areas: list[list[list[str]]], out: Path) -> dict[str, Path]:
    """A warehouse with fct_incidents and coordination_coverage_gaps made by `sql` from
    the generated sources, published to every audience."""
    warehouse = out / "build.duckdb"
    con = duckdb.connect(str(warehouse))
    try:
        con.execute(
            "CREATE TABLE sources (area_pcode varchar, incident_id varchar, releasability varchar)"
        )
        con.executemany(
            "INSERT INTO sources VALUES (?, ?, ?)",
            [
                (f"A{a}", f"A{a}-{i}", level)
                for a, incidents in enumerate(areas)
                for i, levels in enumerate(incidents)
                for level in levels
            ],
        )
        con.execute(f"CREATE TABLE rows AS {sql}")
        con.execute("CREATE SCHEMA marts")
        con.execute(
            "CREATE TABLE marts.fct_incidents AS SELECT id AS incident_id, "
            "[id] AS source_event_ids, releasability FROM rows WHERE mart = 'incidents'"
        )
        con.execute(
            "CREATE TABLE marts.coordination_coverage_gaps AS SELECT id AS area_pcode, "
            "n AS uncovered_incident_count, "
            "(SELECT list(incident_id) FROM sources WHERE area_pcode = id) AS incident_ids, "
            "TIMESTAMPTZ '2026-10-01 00:00:00+00' AS first_uncovered_at, "
            "content_releasability, releasability FROM rows WHERE mart = 'gaps'"
        )
    finally:
        con.close()
    paths = {}
    for audience in AUDIENCES:
        write_audience(warehouse, out / audience, audience)
        paths[audience] = out / audience / "unified.duckdb"
    return paths


def rows_of(path: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(areas=areas_strategy, setting=st.sampled_from(SETTINGS))
def test_content_and_aggregate_rows_reach_only_their_audiences(
    compiled: dict[tuple[str, int], str], areas: list[list[list[str]]], setting: tuple[str, int]
) -> None:
    level, minimum = setting
    with tempfile.TemporaryDirectory() as tmp:
        published = publish_generated(compiled[setting], areas, Path(tmp))
        for audience, path in published.items():
            seen = RANK[audience]
            incidents = dict(
                rows_of(path, "SELECT incident_id, source_event_ids FROM fct_incidents")
            )
            gaps = {
                r[0]: r[1:]
                for r in rows_of(
                    path,
                    "SELECT area_pcode, uncovered_incident_count, incident_ids, "
                    "first_uncovered_at, content_releasability FROM coordination_coverage_gaps",
                )
            }
            for a, area in enumerate(areas):
                strictest = 0
                for i, sources in enumerate(area):
                    incident = max(RANK[s] for s in sources)
                    strictest = max(strictest, incident)
                    # a content row: never below the strictest of its sources
                    assert (f"A{a}-{i}" in incidents) == (seen >= incident), (audience, sources)
                # an aggregate row: at the aggregate level iff it counts enough records,
                # else (and always for more) at the strictest of its sources
                enough = len(area) >= minimum
                expected = seen >= strictest or (enough and seen >= RANK[level])
                assert (f"A{a}" in gaps) == expected, (audience, area, setting)
                if f"A{a}" in gaps:
                    count, ids, first, content_level = gaps[f"A{a}"]
                    assert count == len(area)
                    # and its record content only where every source may go
                    content = seen >= strictest
                    assert (ids is not None, first is not None) == (content, content), (
                        audience,
                        area,
                    )
                    assert content_level == (RELEASABILITY[strictest] if content else None)


def gap_scenario(root: Path) -> str:
    """Four incidents in one district and no aid there: three public, one restricted.
    Returns the district's p-code."""
    import csv

    from tests.warehouse.logbuilder import REPO, append, feeds, utc

    with open(REPO / "packs" / "carana" / "places.csv", newline="", encoding="utf-8") as fh:
        place = next(csv.DictReader(fh))
    rows = [
        {
            "report_id": f"SR-{day}",
            "occurred_at": f"2026-10-0{day}T10:00:00Z",
            "incident_type": "ARMED_CLASH",
            "lat": place["latitude"],
            "lon": place["longitude"],
            "fatalities": "1",
            "classification": "restricted" if day == 1 else "public",
        }
        for day in range(1, 5)
    ]
    append(root, feeds(root)["unmic.sitreps"], rows, utc("2026-10-05T12:00:00"))
    return place["admin2_pcode"]


def build_and_publish(root: Path, minimum: int) -> Path:
    from ingest.gate import GateResult
    from ingest.publish.writer import publish
    from ingest.warehouse.runner import build, built_state, warehouse_path
    from tests.warehouse.logbuilder import project_registry

    registry = project_registry(root)
    mission = registry.mission.model_copy(update={"aggregate_minimum_count": minimum})
    built = build(root, registry=registry.model_copy(update={"mission": mission}), test=False)
    assert built.ok, built.failures[:3]
    # a passed gate of this very build, without running GX (publish checks the build id)
    state = built_state(warehouse_path(root))
    assert state is not None
    gate = GateResult(passed=True, warehouse=warehouse_path(root), build_id=state.build_id)
    return publish(root, gate)


def test_coverage_gap_with_a_restricted_source_is_released_by_its_count(tmp_path: Path) -> None:
    """A real build and publish: the gap of four incidents (one restricted) reaches
    partners and mission as counts only when the minimum is four, and nobody at five."""
    area = gap_scenario(tmp_path)
    query = (
        "SELECT uncovered_incident_count, incident_ids, first_uncovered_at, uncovered_fatalities "
        f"FROM coordination_coverage_gaps WHERE area_pcode = '{area}'"
    )
    released = build_and_publish(tmp_path, minimum=4)
    assert rows_of(released / "public" / "unified.duckdb", query) == []
    for audience in ("partners", "mission"):
        assert rows_of(released / audience / "unified.duckdb", query) == [(4, None, None, None)]
    held = build_and_publish(tmp_path, minimum=5)  # the setting changed: a full rebuild
    for audience in AUDIENCES:
        assert rows_of(held / audience / "unified.duckdb", query) == [], audience
