"""Incremental builds on a simulated operation: after a load of corrections, retractions
and new reports about its first days, a chain of incremental builds (one that stops after
folding, so the marts catch up a run later) gives exactly the rows of a full refresh,
and cross-agency resolution re-resolves only the reports near the changes in time.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from ingest.lab.simulate import simulate
from ingest.log.eventlog import EventLog
from ingest.sessions import connect
from ingest.warehouse.runner import build, run_dbt, warehouse_path

from .logbuilder import append, feeds, ingest_simulation, project_registry, query, snapshot

pytestmark = pytest.mark.slow

DAYS = 50
SCALE = 5.0  # dense enough that matches chain across days
START = date(2026, 6, 1)
SCHEMAS = ("staging", "intermediate", "marts", "review")


def tables(db: Path) -> dict[str, list[str]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.sql(
            "select table_schema, table_name from information_schema.tables "
            f"where table_schema in {SCHEMAS} and table_type = 'BASE TABLE'"
        ).fetchall()
    finally:
        con.close()
    return {s: sorted(t for schema, t in rows if schema == s) for s in SCHEMAS}


def snapshot_all(db: Path) -> dict[str, list[tuple]]:
    out: dict[str, list[tuple]] = {}
    for schema, names in tables(db).items():
        out |= {f"{schema}.{t}": rows for t, rows in snapshot(db, names, schema).items()}
    return out


@dataclass(frozen=True)
class Changed:
    """How a feed names a record, its date, what it amends and a withdrawal; and how far
    the test's corrections move a record."""

    feed_id: str
    entity: str
    ids: tuple[str, ...]
    amends: str
    date: str
    withdrawal: tuple[str, str]
    shift_days: int
    number: tuple[str, str]  # a numeric column, and the field its normalisation issues name


MOI = Changed(
    "moi.incidents", "incidents", ("Incident No", "Incident Number"), "Amends", "Date",
    ("Status", "WITHDRAWN"), shift_days=1, number=("Killed", "fatalities"),
)  # fmt: skip
# a week later: the delivery moves to another ISO week (duplication is per week)
OCHA = Changed(
    "ocha.deliveries", "deliveries", ("#activity+id",), "#activity+id+replaces", "#date",
    ("#status", "cancelled"), shift_days=7, number=("#indicator+value", "quantity"),
)  # fmt: skip


def early_records(root: Path, feed: Changed, days: int) -> list[dict[str, str]]:
    """Current records of a feed (decoded, as logged) about the operation's first `days`
    days, in record id order, each with its id under `feed.ids[0]`."""
    current = {
        r
        for (r,) in query(
            warehouse_path(root),
            f"select record_id from intermediate.int_{feed.entity}_folded "
            f"where feed_id = '{feed.feed_id}' and not is_retracted and not is_excluded",
        )
    }
    sql = EventLog(root).select_sql(feed.feed_id)
    records = [json.loads(p) for (p,) in connect().sql(f"select payload from ({sql})").fetchall()]
    last = START + timedelta(days=days - 1)
    early = []
    for record in records:
        record = {k: v for k, v in record.items() if v}
        record_id = next((record.pop(k) for k in feed.ids if k in record), None)
        day = datetime.strptime(record[feed.date], "%d/%m/%Y").date()
        if record_id in current and day <= last:
            early.append({feed.ids[0]: record_id, **record})
    return sorted(early, key=lambda r: r[feed.ids[0]])


def changes(
    feed: Changed, records: list[dict[str, str]]
) -> tuple[list[dict[str, str]], dict[str, list[str]]]:
    """10 corrections moving a record `feed.shift_days` later (the first with a number
    that cannot be read), 5 withdrawals, 15 new records, and one new record whose date
    cannot be read (quarantined)."""
    rows: list[dict[str, str]] = []
    ids: dict[str, list[str]] = {"corrected": [], "withdrawn": [], "new": []}
    id_field = feed.ids[0]
    for i, record in enumerate(records[:30]):
        old_id = record[id_field]
        row = dict(record)
        if i < 10:
            day = datetime.strptime(row[feed.date], "%d/%m/%Y") + timedelta(days=feed.shift_days)
            row |= {
                id_field: f"{old_id}-C",
                feed.amends: old_id,
                feed.date: day.strftime("%d/%m/%Y"),
            }
            if i == 0:
                row[feed.number[0]] = "a dozen"
            ids["corrected"].append(old_id)
        elif i < 15:
            row |= {
                id_field: f"{old_id}-W",
                feed.amends: old_id,
                feed.withdrawal[0]: feed.withdrawal[1],
            }
            ids["withdrawn"].append(old_id)
        else:
            row[id_field] = f"{old_id}-N"
            ids["new"].append(f"{old_id}-N")
        rows.append(row)
    rows.append({**records[15], id_field: f"{records[15][id_field]}-Q", feed.date: "31/02/2026"})
    return rows, ids


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("incremental")
    simulate(root / "sim", seed=11, days=DAYS, scale=SCALE, start=START.isoformat())
    # recorded two weeks before the changes: timeliness (per week of recording) then has
    # weeks an incremental run recomputes and weeks it must leave alone
    ingest_simulation(root, now=datetime.now(UTC) - timedelta(days=14))
    first = build(root, registry=project_registry(root), test=False)
    ids = {}
    for feed in (MOI, OCHA):
        rows, ids[feed.feed_id] = changes(feed, early_records(root, feed, days=3))
        append(root, feeds(root)[feed.feed_id], rows, datetime.now(UTC))
    # folding only: the marts and resolution catch up on these changes in the next run
    partial = build(
        root, registry=project_registry(root), test=False, select="+int_incidents_folded"
    )
    catch_up = build(root, registry=project_registry(root))
    db = warehouse_path(root)
    shutil.copy(db, root / "incremental.duckdb")
    incremental = snapshot_all(db)
    full = build(root, registry=project_registry(root), full_refresh=True, test=False)
    return {
        "root": root,
        "builds": [first, partial, catch_up, full],
        "ids": ids,
        "db": root / "incremental.duckdb",
        "incremental": incremental,
        "full": snapshot_all(db),
    }


def test_every_build_succeeds_with_its_tests(chain: dict) -> None:
    for result in chain["builds"]:
        assert result.ok, result.failures


def test_builds_after_the_first_reuse_dbts_parse(chain: dict) -> None:
    """A build's file and as-of moment change every build, neither where dbt's partial
    parsing compares them (seconds of every incremental build)."""
    logs = (chain["root"] / "warehouse" / "dbt-logs").glob("dbt.log*")
    text = "\n".join(p.read_text() for p in logs)
    assert text.count("Running with dbt=") == len(chain["builds"]), "one dbt run a build"
    assert text.count("Unable to do partial parsing") == 1, "only the first build parses all"


def test_incremental_chain_equals_full_refresh(chain: dict) -> None:
    assert chain["incremental"].keys() == chain["full"].keys()
    assert "marts.fct_incidents" in chain["full"]
    for table, rows in chain["full"].items():
        assert chain["incremental"][table] == rows, table


@pytest.mark.parametrize(
    ("feed", "fact", "folded"),
    [
        (MOI, "fct_incidents", "int_incidents_folded"),
        (OCHA, "fct_aid_deliveries", "int_deliveries_folded"),
    ],
    ids=["incidents", "deliveries"],
)
def test_changes_reached_the_marts(chain: dict, feed: Changed, fact: str, folded: str) -> None:
    ids = chain["ids"][feed.feed_id]
    keys = query(chain["db"], f"select unnest(source_record_keys) from marts.{fact}")
    held = {k for (k,) in keys}
    assert not {f"{feed.feed_id}:{i}" for i in ids["withdrawn"]} & held
    assert {f"{feed.feed_id}:{i}" for i in ids["corrected"] + ids["new"]} <= held
    moved = query(
        chain["db"],
        f"select record_id from intermediate.{folded} "
        f"where record_key in {tuple(f'{feed.feed_id}:{i}' for i in ids['corrected'])}",
    )
    assert sorted(r for (r,) in moved) == sorted(f"{i}-C" for i in ids["corrected"])


def test_moved_deliveries_count_in_their_new_weeks(chain: dict) -> None:
    ids = chain["ids"][OCHA.feed_id]
    grouped = query(
        chain["db"],
        "select unnest(delivery_ids) from marts.coordination_duplication",
    )
    moved = query(
        chain["db"],
        "select delivery_id from intermediate.int_deliveries_resolved "
        f"where record_key in {tuple(f'{OCHA.feed_id}:{i}' for i in ids['corrected'])}",
    )
    assert {d for (d,) in moved} & {d for (d,) in grouped}


def test_normalisation_issues_follow_the_changes(chain: dict) -> None:
    """The incremental run flagged the correction's unreadable number and the quarantined
    record (the equality with the full refresh checks nothing else changed)."""
    for feed in (MOI, OCHA):
        ids = chain["ids"][feed.feed_id]
        flagged = query(
            chain["db"],
            "select record_id, field, reason from marts.normalisation_issues "
            f"where record_key = '{feed.feed_id}:{ids['corrected'][0]}'",
        )
        assert (f"{ids['corrected'][0]}-C", feed.number[1], "unreadable_number") in flagged
        quarantined = query(
            chain["db"],
            "select count(*) from marts.normalisation_issues where stage = 'ingest' "
            f"and feed_id = '{feed.feed_id}' and reason = 'unreadable_time' "
            "and value like 'cannot read time ''31/02/2026%'",
        )
        assert quarantined == [(1,)]
        withdrawn = query(
            chain["db"],
            "select count(*) from marts.normalisation_issues where record_key in "
            f"{tuple(f'{feed.feed_id}:{i}' for i in ids['withdrawn'])}",
        )
        assert withdrawn == [(0,)]


def test_resolution_reresolves_only_reports_near_the_changes(chain: dict) -> None:
    (rerun, total, latest_day) = query(
        chain["db"],
        "select count(*) filter (where resolved_at = (select max(resolved_at) "
        "from intermediate.int_incidents_resolved)), count(*), "
        "max(cast(occurred_at as date)) filter (where resolved_at = (select max(resolved_at) "
        "from intermediate.int_incidents_resolved)) "
        "from intermediate.int_incidents_resolved",
    )[0]
    # the changes are about days 1-4; a report's incident depends on reports up to
    # 10 hops (10 x 30 h) away, so about 18 days are re-resolved out of 50
    assert 0 < rerun < total / 2, (rerun, total)
    assert latest_day < START + timedelta(days=30)


@pytest.mark.parametrize(
    ("table", "key"),
    [
        ("marts.coordination_deconfliction", "deconfliction_id"),
        ("marts.fct_aid_deliveries", "delivery_id"),
        ("intermediate.int_deliveries_resolved", "record_key"),
    ],
    ids=["deconfliction", "deliveries", "resolution"],
)
def test_scoped_unique_test_finds_a_duplicate_among_the_last_runs_rows(
    chain: dict, tmp_path: Path, table: str, key: str
) -> None:
    """In an incremental run a unique test on a large incremental model looks only at the
    rows of the deliveries (patrols) the last run rewrote or resolved (macros/test_scope.sql):
    a duplicate of one of those rows must still fail it."""
    db = warehouse_path(tmp_path)
    db.parent.mkdir()
    shutil.copy(chain["db"], db)
    changed = [f"{OCHA.feed_id}:{i}" for i in chain["ids"][OCHA.feed_id]["corrected"]]
    con = duckdb.connect(str(db))
    try:
        rows = con.execute(
            f"select {key} from {table} "
            "where delivery_id in (select delivery_id from intermediate.int_deliveries_resolved "
            "where record_key in (select unnest(?))) order by 1 limit 1",
            [changed],
        ).fetchall()
        assert rows, f"no row of {table} has a moved delivery: the check would be empty"
        con.execute(f"insert into {table} select * from {table} where {key} = ?", [rows[0][0]])
    finally:
        con.close()
    model = table.split(".")[1]
    tested = run_dbt(["test", "--select", model], tmp_path)
    assert not tested.ok
    assert any(f"unique_{model}_{key}" in f for f in tested.failures), tested.failures


@pytest.fixture(scope="module")
def reused(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A second simulation dropped into the same inboxes: its records reuse the first's
    ids with other content, so a record keyed in one build can name another parent (be
    the correction of another report) in the next."""
    root = tmp_path_factory.mktemp("reused")
    builds = []
    for seed in (7, 8):
        simulate(root / "sim", seed=seed, days=30, start=START.isoformat())
        ingest_simulation(root)
        builds.append(build(root, registry=project_registry(root), test=False))
    incremental = snapshot_all(warehouse_path(root))
    builds.append(build(root, registry=project_registry(root), full_refresh=True, test=False))
    (regrafted,) = (
        connect()
        .sql(
            f"select count(*) from (select feed_id, record_id from ({EventLog(root).select_sql()}) "
            "group by all having count(distinct supersedes) > 1)"
        )
        .fetchall()[0]
    )
    return {
        "builds": builds,
        "regrafted": regrafted,
        "incremental": incremental,
        "full": snapshot_all(warehouse_path(root)),
    }


def test_reused_record_ids_incremental_equals_full_refresh(reused: dict) -> None:
    for result in reused["builds"]:
        assert result.ok, result.failures
    assert reused["regrafted"], "no record names two parents: the case is not exercised"
    assert reused["incremental"].keys() == reused["full"].keys()
    for table, rows in reused["full"].items():
        assert reused["incremental"][table] == rows, table
