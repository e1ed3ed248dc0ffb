"""The Python stand-ins of DuckDB built-ins the Spark target registers
(ingest.warehouse.duckdb_functions) give what DuckDB gives, on the names they meet."""

from __future__ import annotations

import csv
import random
from pathlib import Path

import pyarrow as pa

from ingest.sessions import connect
from ingest.warehouse.duckdb_functions import (
    damerau_levenshtein,
    jaro_winkler_similarity,
    strip_accents,
)

PACK = Path(__file__).resolve().parents[2] / "packs" / "carana"


def _names() -> list[str]:
    names = {v.lower() for f in PACK.glob("*.csv") for row in csv.reader(f.open()) for v in row}
    return sorted(n[:24] for n in names if n)


def test_strip_accents_is_duckdbs() -> None:
    names = [*_names(), "Zaïre", "Ñandú", "Ångström", "Straße", "Œuvre", "İstanbul", None]
    con = connect()
    try:
        con.register("t", pa.table({"n": pa.array(names, pa.string())}))
        expected = [r[0] for r in con.sql("SELECT strip_accents(n) FROM t").fetchall()]
    finally:
        con.close()
    assert strip_accents(pa.array(names, pa.string())).to_pylist() == expected


def test_edit_distance_and_jaro_winkler_are_duckdbs() -> None:
    names = _names()
    rng = random.Random(7)
    pairs = [(rng.choice(names), rng.choice(names)) for _ in range(500)]
    for name in names[:300]:
        i = rng.randrange(max(len(name) - 1, 1))
        swapped = name[:i] + name[i + 1 : i + 2] + name[i : i + 1] + name[i + 2 :]
        pairs += [(name, swapped), (name, name[:i] + name[i + 1 :]), (name, name + "s")]
    pairs += [("ab", "ba"), ("ca", "abc"), ("", "a"), ("", ""), ("martha", "marhta"), (None, "a")]
    left = pa.array([a for a, _ in pairs], pa.string())
    right = pa.array([b for _, b in pairs], pa.string())
    con = connect()
    try:
        con.register("t", pa.table({"a": left, "b": right}))
        expected = con.sql(
            "SELECT damerau_levenshtein(a, b), jaro_winkler_similarity(a, b) FROM t"
        ).fetchall()
    finally:
        con.close()
    assert damerau_levenshtein(left, right).to_pylist() == [d for d, _ in expected]
    assert jaro_winkler_similarity(left, right).to_pylist() == [j for _, j in expected]
