"""Whatever changed in a mart, publishing on the previous version gives every audience the
rows a publish from scratch gives, appends only where no row of the audience was lost or
changed, and leaves no row that left an audience in its file."""

from __future__ import annotations

import json
import os
import tempfile
from collections import Counter
from pathlib import Path

import duckdb
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ingest.publish.writer import publish
from ingest.releasability import AUDIENCES, RELEASABILITY
from tests.gate.factory import make_warehouse

from .test_carry_over import _passed, holds, rows

ROWS = 40
MART = "fct_incidents"
KINDS = ("add", "edit", "reclassify", "delete")

changes = st.lists(
    st.tuples(st.sampled_from(KINDS), st.integers(0, ROWS - 1), st.sampled_from(RELEASABILITY)),
    min_size=1,
    max_size=3,
)


def apply(warehouse: Path, batch: list[tuple[str, int, str]]) -> None:
    con = duckdb.connect(str(warehouse))
    for n, (kind, row, level) in enumerate(batch):
        key = f"{MART}:{row}"
        if kind == "add":
            con.execute(
                f"INSERT INTO marts.{MART} SELECT * REPLACE (? AS incident_id, ? AS releasability) "
                f"FROM marts.{MART} WHERE incident_id = ?",
                [f"{MART}:added{n}", level, key],
            )
        elif kind == "edit":
            con.execute(
                f"UPDATE marts.{MART} SET fatalities = coalesce(fatalities, 0) + 1 "
                "WHERE incident_id = ?",
                [key],
            )
        elif kind == "reclassify":
            con.execute(
                f"UPDATE marts.{MART} SET releasability = ? WHERE incident_id = ?", [level, key]
            )
        else:
            con.execute(f"DELETE FROM marts.{MART} WHERE incident_id = ?", [key])
    con.close()


def _ids(table_rows: list) -> set[str]:
    return {row[0] for row in table_rows}


@settings(max_examples=8, deadline=None)
@given(batch=changes)
@example(batch=[("add", 0, "public")])  # every audience gains a row: appended everywhere
@example(batch=[("delete", 0, "public")])  # a row leaves every audience: written afresh
def test_any_change_publishes_a_fresh_publishs_rows_and_appends_only_gains(
    batch: list[tuple[str, int, str]],
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root, fresh = Path(tmp) / "data", Path(tmp) / "fresh"
        warehouse = root / "warehouse" / "build.duckdb"
        make_warehouse(warehouse, rows=ROWS)
        first = publish(root, _passed(root))
        apply(warehouse, batch)
        second = publish(root, _passed(root))
        (fresh / "warehouse").mkdir(parents=True)
        os.link(warehouse, fresh / "warehouse" / "build.duckdb")
        before, after = rows(first), rows(second)
        assert after == rows(publish(fresh, _passed(fresh)))

        manifests = [json.loads((v / "manifest.json").read_text()) for v in (first, second)]
        appended = manifests[1]["appended"]
        for audience in AUDIENCES:
            old = before.get((audience, "duckdb", MART), [])
            new = after.get((audience, "duckdb", MART), [])
            changed = manifests[0]["marts"][audience][MART] != manifests[1]["marts"][audience][MART]
            kept = not Counter(map(repr, old)) - Counter(map(repr, new))
            assert (MART in appended.get(audience, [])) == (changed and kept), audience
            # an incident that left the audience is nowhere in its file
            left = _ids(old) - _ids(new)
            data = (second / audience / "unified.duckdb").read_bytes()
            assert not [key for key in left if holds(data, key)], audience
