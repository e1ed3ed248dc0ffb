"""Incremental builds on a simulated operation: after a load of corrections, retractions
and new reports about its first days, a chain of incremental builds (one that stops after
folding, so the marts catch up a run later) gives exactly the rows of a full refresh,
and cross-agency resolution re-resolves only the reports near the changes in time.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from ingest.eventlog import EventLog, connect
from ingest.simulate import simulate
from ingest.warehouse import build, warehouse_path

from .logbuilder import FEED_IDS, append, feeds, ingest_simulation, query, snapshot

pytestmark = pytest.mark.slow

DAYS = 50
SCALE = 5.0  # dense enough that matches chain across days
START = date(2026, 6, 1)
SCHEMAS = ("staging", "intermediate", "marts")


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


def early_moi_records(root: Path, days: int) -> list[dict[str, str]]:
    """Current ministry records in the marts (decoded, as logged) about the operation's
    first `days` days."""
    current = {
        r
        for (r,) in query(
            warehouse_path(root),
            "select record_id from marts.fct_incidents, unnest(source_record_keys) as k(key) "
            "join intermediate.int_incidents_folded as f on f.record_key = k.key "
            "where f.feed_id = 'moi.incidents'",
        )
    }
    sql = EventLog(root).select_sql("moi.incidents")
    records = [json.loads(p) for (p,) in connect().sql(f"select payload from ({sql})").fetchall()]
    last = START + timedelta(days=days - 1)
    early = [
        {k: v for k, v in r.items() if v}
        for r in records
        if (r.get("Incident No") or r.get("Incident Number")) in current
        and datetime.strptime(r["Date"], "%d/%m/%Y").date() <= last
    ]
    return sorted(early, key=lambda r: r.get("Incident No") or r.get("Incident Number"))


def changes(records: list[dict[str, str]]) -> tuple[list[dict[str, str]], dict[str, list[str]]]:
    """10 corrections moving a report a day later, 5 withdrawals, 15 new reports."""
    rows: list[dict[str, str]] = []
    ids: dict[str, list[str]] = {"corrected": [], "withdrawn": [], "new": []}
    for i, record in enumerate(records[:30]):
        old_id = record.pop("Incident No", None) or record.pop("Incident Number")
        row = dict(record)
        if i < 10:
            day = datetime.strptime(row["Date"], "%d/%m/%Y") + timedelta(days=1)
            row |= {
                "Incident No": f"{old_id}-C",
                "Amends": old_id,
                "Date": day.strftime("%d/%m/%Y"),
            }
            ids["corrected"].append(old_id)
        elif i < 15:
            row |= {"Incident No": f"{old_id}-W", "Amends": old_id, "Status": "WITHDRAWN"}
            ids["withdrawn"].append(old_id)
        else:
            row["Incident No"] = f"{old_id}-N"
            ids["new"].append(f"{old_id}-N")
        rows.append(row)
    return rows, ids


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("incremental")
    simulate(root / "sim", seed=11, days=DAYS, scale=SCALE, start=START.isoformat())
    ingest_simulation(root)
    first = build(root, feed_ids=FEED_IDS, test=False)
    rows, ids = changes(early_moi_records(root, days=3))
    append(root, feeds(root)["moi.incidents"], rows, datetime.now(UTC))
    # folding only: the marts and resolution catch up on these changes in the next run
    partial = build(root, feed_ids=FEED_IDS, test=False, select="+int_incidents_folded")
    catch_up = build(root, feed_ids=FEED_IDS)
    db = warehouse_path(root)
    shutil.copy(db, root / "incremental.duckdb")
    incremental = snapshot_all(db)
    full = build(root, feed_ids=FEED_IDS, full_refresh=True, test=False)
    return {
        "builds": [first, partial, catch_up, full],
        "ids": ids,
        "db": root / "incremental.duckdb",
        "incremental": incremental,
        "full": snapshot_all(db),
    }


def test_every_build_succeeds_with_its_tests(chain: dict) -> None:
    for result in chain["builds"]:
        assert result.ok, result.failures


def test_incremental_chain_equals_full_refresh(chain: dict) -> None:
    assert chain["incremental"].keys() == chain["full"].keys()
    assert "marts.fct_incidents" in chain["full"]
    for table, rows in chain["full"].items():
        assert chain["incremental"][table] == rows, table


def test_changes_reached_the_marts(chain: dict) -> None:
    ids = chain["ids"]
    keys = query(chain["db"], "select unnest(source_record_keys) from marts.fct_incidents")
    held = {k for (k,) in keys}
    assert not {f"moi.incidents:{i}" for i in ids["withdrawn"]} & held
    assert {f"moi.incidents:{i}" for i in ids["corrected"] + ids["new"]} <= held
    moved = query(
        chain["db"],
        "select record_id from intermediate.int_incidents_folded "
        f"where record_key in {tuple(f'moi.incidents:{i}' for i in ids['corrected'])}",
    )
    assert sorted(r for (r,) in moved) == sorted(f"{i}-C" for i in ids["corrected"])


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
    # 9 hops (9 x 48 h) away, so about 20 days are re-resolved out of 50
    assert 0 < rerun < total / 2, (rerun, total)
    assert latest_day < START + timedelta(days=30)
