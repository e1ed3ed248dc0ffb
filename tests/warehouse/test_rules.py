"""The warehouse's rules at their limits, on one small build through the real path:
hand-made records of the feeds in rules_feeds.yaml, the real envelope, log and dbt.

- Need to know: every merged row (a unified incident, a folded record, a duplication
  group, a deconfliction pair, a coverage gap, an agency-week) takes the strictest level
  of the events behind it, and the operation holds every mix of levels in each kind.
- Thresholds at, just inside and just outside their limits: resolution (10 km, 24 h, a
  day-precision report's whole day), deconfliction (5 km, 6 h, a day-precision
  delivery's whole day), coverage gaps (14 days), duplication (two organisations).
- As of: a build as of a load's recorded_at holds that load, not one a microsecond later.
- Retractions: a cancelled delivery or patrol is in no fact and no pair.

Each case has days of its own, 5 days after the previous one's: more than the widest
window (48 h), so no two cases meet. dbt's own data test of the deconfliction limits
(dbt_project/tests) runs in this build as in every build.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from itertools import combinations, product
from pathlib import Path

import pytest

from ingest.feeds.registry import load_registry
from ingest.releasability import RELEASABILITY
from ingest.warehouse.runner import build, dbt_target_path, warehouse_path

from .logbuilder import EARTH_KM, append, query

LEVELS = RELEASABILITY
REGISTRY = Path(__file__).with_name("rules_feeds.yaml")
ORIGIN = (6.3, 20.25)  # in CR0101 (6-7 N, 20-20.5 E)
FIRST_DAY = datetime(2026, 1, 5, tzinfo=UTC)
AS_OF = datetime(2026, 12, 1, tzinfo=UTC)
HOUR = timedelta(hours=1)
MINUTE = timedelta(minutes=1)

# Resolution: (beta's report km north of alpha's, how long after it, alpha's is day-precision).
# With the defaults (dbt_project.yml) and no fatalities given, a pair's cost is
# hours^2 + (km / 2)^2 + 1, and at most 20 is a candidate: 8.72 km, or 4.36 h, at the limit.
RESOLUTION = {
    "near": (8.70, 0 * HOUR, False),  # cost 19.92
    "far": (8.75, 0 * HOUR, False),  # 20.14
    "window": (0, 4.35 * HOUR, False),  # 19.92
    "past-window": (0, 4.37 * HOUR, False),  # 20.10
    "day-widened": (0, 28.35 * HOUR, True),  # 4.35 h after alpha's day
    "past-day-widened": (0, 28.37 * HOUR, True),
}
RESOLVED = {"near", "window", "day-widened"}
# Clusters along a line north (agency, km). "four": alpha-1 4.5 km from beta, beta 5 km from
# gamma, gamma 4.5 km from alpha-2, each the other's cheapest: matches chained across
# agencies would make one incident of all four; two clusters sharing an agency never merge.
# "three": alpha 5 km from gamma, gamma 4 km from beta, alpha and beta 9 km apart (not
# candidates): gamma prefers beta, so alpha stays alone; merging through one alike pair
# (single link), or with a partner that prefers another, would join all three.
# "crossed": beta 5 km from alpha-1, alpha-1 2 km from alpha-2, alpha-2 5 km from gamma,
# beta 7 km from alpha-2, alpha-1 7 km from gamma, beta and gamma 12 km apart (not
# candidates): {beta, alpha-1} and {alpha-2, gamma} form first and stay apart. Pairs of one
# agency taken as candidates (both ways) would make up complete link's count for the
# missing beta~gamma pair and merge all four.
CHAINS = {
    "four": {
        "alpha-1": ("alpha", 0),
        "beta": ("beta", 4.5),
        "gamma": ("gamma", 9.5),
        "alpha-2": ("alpha", 14),
    },
    "three": {"alpha": ("alpha", 0), "gamma": ("gamma", 5), "beta": ("beta", 9)},
    "crossed": {
        "beta": ("beta", 0),
        "alpha-1": ("alpha", 5),
        "alpha-2": ("alpha", 7),
        "gamma": ("gamma", 12),
    },
}
CHAIN_INCIDENTS = {
    "four": [{"alpha-1", "beta"}, {"alpha-2", "gamma"}],
    "three": [{"alpha"}, {"beta", "gamma"}],
    "crossed": [{"beta", "alpha-1"}, {"alpha-2", "gamma"}],
}
# Deconfliction, a 4-hour patrol and a delivery: (the delivery's km north of the patrol,
# its time in the case's day (None: a day-precision delivery that day), the patrol's start)
DECONFLICTION = {
    "near": (4.99, 10 * HOUR, 8 * HOUR),
    "far": (5.01, 10 * HOUR, 8 * HOUR),
    "after": (0, 18 * HOUR, 8 * HOUR),
    "past-after": (0, 18 * HOUR + MINUTE, 8 * HOUR),
    "before": (0, 2 * HOUR, 8 * HOUR),
    "past-before": (0, 2 * HOUR - MINUTE, 8 * HOUR),
    "day": (0, None, 30 * HOUR),  # the next day 06:00: 6 h after the delivery's day
    "past-day": (0, None, 30 * HOUR + MINUTE),
}
PAIRED = {"near": 0.0, "after": 6.0, "before": 6.0, "day": 6.0}
# Coverage gaps: an incident in the area on a day and a delivery there N days later.
COVERAGE = {"CR0501": 14, "CR0502": 15, "CR0503": -1}
# Every mix of levels in one duplication group, each in an area of its own.
MIXES = [set(c) for n in range(1, 5) for c in combinations(LEVELS, n)]
DUPLICATION_AREAS = [f"CR0{p}0{d}" for p in (1, 2, 3, 4) for d in (1, 2, 3, 4)][1:]


def iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def north(km: float) -> dict[str, str]:
    """A point `km` north of ORIGIN: along a meridian the haversine is exactly R·Δlat."""
    return {"lat": f"{ORIGIN[0] + math.degrees(km / EARTH_KM):.7f}", "lon": f"{ORIGIN[1]:.7f}"}


class Operation:
    """The records of each feed, with days of their own for each case."""

    def __init__(self) -> None:
        self.rows: dict[str, list[dict[str, str]]] = defaultdict(list)
        self.cases = 0

    def new_case(self) -> datetime:
        self.cases += 1
        return FIRST_DAY + timedelta(days=5 * self.cases)

    def incident(self, feed: str, id_: str, at: str, level: str, **place: str) -> None:
        row = {"id": id_, "at": at, "level": level, "type": "Armed clash", **place}
        self.rows[f"{feed}.incidents"].append(row)

    def delivery(self, id_: str, at: str, level: str, org: str, **place: str) -> None:
        row = {"id": id_, "at": at, "level": level, "org": org, "sector": "Health"}
        self.rows["alpha.deliveries"].append({**row, "qty": "10", "unit": "kg", **place})

    def patrol(self, id_: str, start: datetime, end: datetime, level: str = "public") -> None:
        row = {"id": id_, "at": iso(start), "until": iso(end), "level": level, "task": "recce"}
        self.rows["force.patrols"].append({**row, **north(0)})


def operation() -> Operation:
    op = Operation()
    for a, b in product(LEVELS, LEVELS):
        day = op.new_case()
        op.incident("alpha", f"mix-{a}-{b}", iso(day + 10 * HOUR), a, **north(0))
        op.incident("beta", f"mix-{a}-{b}", iso(day + 11 * HOUR), b, **north(0))
        day = op.new_case()
        op.patrol(f"mix-{a}-{b}", day + 8 * HOUR, day + 12 * HOUR, a)
        op.delivery(f"mix-{a}-{b}", iso(day + 10 * HOUR), b, "ORG-D", **north(0))
        # a record and its correction at another level: folded into one row
        op.delivery(f"fold-{a}-{b}", "2026-11-02", a, "ORG-F", admin2="CR0601")
        op.delivery(f"fold-{a}-{b}-c", "2026-11-02", b, "ORG-F", admin2="CR0601")
        op.rows["alpha.deliveries"][-1] |= {"replaces": f"fold-{a}-{b}", "qty": "20"}
    for n in (1, 2, 3):  # a chain: each corrects the one before
        op.delivery(f"chain-{n}", "2026-11-02", "public", "ORG-F", admin2="CR0601")
        op.rows["alpha.deliveries"][-1] |= {"replaces": f"chain-{n - 1}" if n > 1 else None}
    for case, (km, later, day_precision) in RESOLUTION.items():
        day = op.new_case()
        at = day.strftime("%Y-%m-%d") if day_precision else iso(day)
        op.incident("alpha", f"res-{case}", at, "public", **north(0))
        op.incident("beta", f"res-{case}", iso(day + later), "public", **north(km))
    day = op.new_case()
    for n in (1, 2):  # reports of one agency are never merged
        op.incident("alpha", f"same-agency-{n}", iso(day), "public", **north(0))
    for chain, reports in CHAINS.items():
        day = op.new_case()
        for case, (agency, km) in reports.items():
            op.incident(agency, f"{chain}-{case}", iso(day), "public", **north(km))
    day = op.new_case()  # each report keeps only its best match: the nearer one
    op.incident("alpha", "best", iso(day), "public", **north(0))
    op.incident("beta", "best", iso(day), "public", **north(1))
    op.incident("beta", "second-best", iso(day), "public", **north(2))
    for case, (km, when, start) in DECONFLICTION.items():
        day = op.new_case()
        op.patrol(f"dec-{case}", day + start, day + start + 4 * HOUR)
        at = day.strftime("%Y-%m-%d") if when is None else iso(day + when)
        op.delivery(f"dec-{case}", at, "public", "ORG-D", **north(km))
    for case in ("cancelled-delivery", "cancelled-patrol"):  # the cancellations: below
        day = op.new_case()
        op.patrol(case, day + 8 * HOUR, day + 12 * HOUR)
        op.delivery(case, iso(day + 10 * HOUR), "public", "ORG-D", **north(0))
    for i, mix in enumerate(MIXES):
        levels = sorted(mix) * (2 if len(mix) == 1 else 1)
        for j, level in enumerate(levels):
            org = f"ORG-{j}"
            op.delivery(f"dup-{i}-{j}", "2026-11-03", level, org, admin2=DUPLICATION_AREAS[i])
    for n in (1, 2):  # one organisation twice is no duplication
        op.delivery(f"one-org-{n}", "2026-11-03", "public", "ORG-1", admin2="CR0602")
    for area, days in COVERAGE.items():
        op.incident("alpha", f"gap-{area}", "2026-11-10", "public", admin2=area)
        on = datetime(2026, 11, 10, tzinfo=UTC) + timedelta(days=days)
        op.delivery(f"gap-{area}", on.strftime("%Y-%m-%d"), "public", "ORG-G", admin2=area)
    return op


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("rules")
    registry = load_registry(REGISTRY, root)
    feeds = {f.id: f for f in registry.feeds}
    op = operation()
    for feed_id, rows in op.rows.items():
        append(root, feeds[feed_id], rows, AS_OF - 48 * HOUR)
    # a day later, a delivery and a patrol are sent again, marked cancelled
    for feed_id, record in (
        ("alpha.deliveries", "cancelled-delivery"),
        ("force.patrols", "cancelled-patrol"),
    ):
        (row,) = [r for r in op.rows[feed_id] if r["id"] == record]
        append(root, feeds[feed_id], [{**row, "status": "cancelled"}], AS_OF - 24 * HOUR)
    # one load recorded at the build's as-of moment, one a microsecond after it
    for name, recorded in (("at-as-of", AS_OF), ("after-as-of", AS_OF + timedelta(microseconds=1))):
        op = Operation()
        op.delivery(name, "2026-11-20", "public", "ORG-A", admin2="CR0701")
        append(root, feeds["alpha.deliveries"], op.rows["alpha.deliveries"], recorded)
    result = build(root, registry=registry, as_of=AS_OF)
    assert result.ok, result.failures
    return root


def rows(root: Path, sql: str) -> list[tuple]:
    return query(warehouse_path(root), sql)


def ids(root: Path, mart: str, key: str, feed: str) -> set[str]:
    """The record ids of a feed among a fact's keys (`<feed>:<record id>`)."""
    return {
        k.split(":", 1)[1]
        for (k,) in rows(root, f"select {key} from marts.{mart}")
        if k.startswith(feed + ":")
    }


def test_the_deconfliction_limits_are_a_data_test_of_every_build(built: Path) -> None:
    results = json.loads((dbt_target_path(built) / "run_results.json").read_text())
    status = {r["unique_id"]: r["status"] for r in results["results"]}
    assert status["test.peaceops.assert_deconfliction_within_limits"] == "pass"


# mart -> its key; rows of counts and codes (docs/need-to-know.md) keep the strictest level
# of their events as content_releasability, their releasability follows the aggregate rule
LINEAGE = {
    "fct_incidents": "incident_id",
    "fct_aid_deliveries": "delivery_id",
    "fct_patrols": "patrol_id",
    "coordination_duplication": "duplication_id",
    "coordination_deconfliction": "deconfliction_id",
    "coordination_coverage_gaps": "area_pcode",
    "coordination_agency_timeliness": "timeliness_id",
}
AGGREGATES = {"coordination_coverage_gaps", "coordination_agency_timeliness"}


@pytest.mark.parametrize("mart", LINEAGE)
def test_every_merged_row_takes_the_strictest_level_of_its_events(built: Path, mart: str) -> None:
    key = LINEAGE[mart]
    level = "content_releasability" if mart in AGGREGATES else "releasability"
    got = rows(
        built,
        f"""with sources as (
            select {key} as row_key, {level} as releasability,
                unnest(source_event_ids) as event_id
            from marts.{mart}
        )
        select sources.row_key, any_value(sources.releasability),
            list(distinct events.releasability order by events.releasability)
        from sources
        inner join intermediate.int_events_keyed as events using (event_id)
        group by sources.row_key""",
    )
    assert got, mart
    wrong = [(k, level, levels) for k, level, levels in got if level != strictest(levels)]
    assert wrong == [], mart
    mixes = {frozenset(levels) for _, _, levels in got}
    wanted = {
        "fct_incidents": {frozenset(p) for p in product(LEVELS, LEVELS)},
        "coordination_deconfliction": {frozenset(p) for p in product(LEVELS, LEVELS)},
        "fct_aid_deliveries": {frozenset(p) for p in product(LEVELS, LEVELS)},
        "coordination_duplication": {frozenset(m) for m in MIXES},
        "coordination_agency_timeliness": {frozenset(LEVELS)},
    }.get(mart, set())
    assert wanted <= mixes, (mart, wanted - mixes)


def strictest(levels: list[str]) -> str:
    return max(levels, key=LEVELS.index)


def test_resolution_at_its_distance_and_time_limits(built: Path) -> None:
    merged = rows(
        built,
        "select source_record_keys from marts.fct_incidents where source_count > 1",
    )
    cases = {k.split(":", 1)[1] for (keys,) in merged for k in keys}
    resolved = {c.removeprefix("res-") for c in cases if c.startswith("res-")}
    assert resolved == RESOLVED
    assert not any(c.startswith("same-agency") for c in cases)
    assert "best" in cases and "second-best" not in cases


@pytest.mark.parametrize("chain", CHAINS)
def test_resolution_never_chains_reports_that_are_not_all_alike(built: Path, chain: str) -> None:
    incidents = [
        {k.split(f":{chain}-", 1)[1] for k in keys}
        for (keys,) in rows(
            built,
            "select source_record_keys from marts.fct_incidents "
            f"where source_record_keys[1] like '%:{chain}-%'",
        )
    ]
    assert sorted(incidents, key=sorted) == sorted(CHAIN_INCIDENTS[chain], key=sorted)


def test_deconfliction_at_its_distance_and_time_limits(built: Path) -> None:
    pairs = rows(
        built,
        "select patrol_id, delivery_id, distance_km, hours_apart "
        "from marts.coordination_deconfliction where patrol_id like 'force.patrols:dec-%'",
    )
    got = {}
    for patrol, delivery, km, hours in pairs:
        case = patrol.removeprefix("force.patrols:dec-")
        assert delivery == f"alpha.deliveries:dec-{case}"
        got[case] = hours
        assert km <= 5
    assert got == PAIRED
    ((km,),) = rows(
        built,
        "select distance_km from marts.coordination_deconfliction "
        "where patrol_id = 'force.patrols:dec-near'",
    )
    assert km == pytest.approx(4.99, abs=0.001)


def test_coverage_gaps_at_their_limit(built: Path) -> None:
    gaps = {a for (a,) in rows(built, "select area_pcode from marts.coordination_coverage_gaps")}
    assert {a for a, days in COVERAGE.items() if not 0 <= days <= 14} == gaps & set(COVERAGE)


def test_duplication_needs_two_organisations(built: Path) -> None:
    areas = {a for (a,) in rows(built, "select area_pcode from marts.coordination_duplication")}
    assert areas == set(DUPLICATION_AREAS[: len(MIXES)])


def test_cancelled_deliveries_and_patrols_leave_the_facts_and_the_pairs(built: Path) -> None:
    deliveries = ids(built, "fct_aid_deliveries", "delivery_id", "alpha.deliveries")
    patrols = ids(built, "fct_patrols", "patrol_id", "force.patrols")
    assert "cancelled-delivery" not in deliveries and "cancelled-delivery" in patrols
    assert "cancelled-patrol" not in patrols and "cancelled-patrol" in deliveries
    cancelled = rows(
        built,
        "select count(*) from marts.coordination_deconfliction where patrol_id like '%cancelled%'",
    )
    assert cancelled == [(0,)]


def test_a_build_as_of_a_load_s_time_holds_that_load_only(built: Path) -> None:
    deliveries = ids(built, "fct_aid_deliveries", "delivery_id", "alpha.deliveries")
    assert "at-as-of" in deliveries
    assert "after-as-of" not in deliveries


def test_corrections_fold_into_their_record(built: Path) -> None:
    folded = rows(
        built,
        # one report each (source_count), with every event of its chain in its lineage
        "select record_id, quantity, source_count, len(source_event_ids), correction_count "
        "from marts.fct_aid_deliveries "
        "where delivery_id like 'alpha.deliveries:fold-%' or delivery_id like 'alpha.deliveries:chain-%'",
    )
    expected = [(f"fold-{a}-{b}-c", 20, 1, 2, 1) for a, b in product(LEVELS, LEVELS)]
    assert sorted(folded) == sorted([*expected, ("chain-3", 10, 1, 3, 2)])
