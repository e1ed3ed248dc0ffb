"""DuckDB built-ins the dbt models call that Spark lacks, in Python over Arrow arrays, for
the Spark target (ingest.warehouse.spark registers them as Arrow UDFs under DuckDB's names).

Each gives what DuckDB gives (tests/unit/test_duckdb_functions.py compares them with
DuckDB itself): the same SQL then means the same on both engines. They run over
distinct names (pack names, names agencies sent), never over every event.
"""

from __future__ import annotations

from collections.abc import Callable

import pyarrow as pa
import pyarrow.compute as pc


def strip_accents(values: pa.Array) -> pa.Array:
    """'Zaïre' -> 'Zaire': decompose, drop the combining marks, compose again."""
    decomposed = pc.utf8_normalize(values, "NFD")
    return pc.utf8_normalize(pc.replace_substring_regex(decomposed, r"\p{Mn}", ""), "NFC")


def damerau_levenshtein_distance(a: str, b: str) -> int:
    """Edits (insert, delete, substitute, swap two neighbours) from a to b; unrestricted
    (a swapped pair may be edited again), as DuckDB's damerau_levenshtein."""
    alphabet: dict[str, int] = {}
    big = len(a) + len(b)
    d = [[big] * (len(b) + 2) for _ in range(len(a) + 2)]
    for i in range(len(a) + 1):
        d[i + 1][0], d[i + 1][1] = big, i
    for j in range(len(b) + 1):
        d[0][j + 1], d[1][j + 1] = big, j
    for i in range(1, len(a) + 1):
        last_match = 0
        for j in range(1, len(b) + 1):
            k, previous = alphabet.get(b[j - 1], 0), last_match
            cost = 0 if a[i - 1] == b[j - 1] else 1
            if cost == 0:
                last_match = j
            d[i + 1][j + 1] = min(
                d[i][j] + cost,
                d[i + 1][j] + 1,
                d[i][j + 1] + 1,
                d[k][previous] + (i - k - 1) + 1 + (j - previous - 1),
            )
        alphabet[a[i - 1]] = i
    return d[len(a) + 1][len(b) + 1]


def jaro_winkler(a: str, b: str) -> float:
    """Jaro similarity with Winkler's bonus for a common prefix (up to 4 characters,
    weight 0.1, given when the Jaro similarity exceeds 0.7), as DuckDB's
    jaro_winkler_similarity."""
    if not a or not b:
        return 0.0  # DuckDB's answer, even for two empty strings
    window = max(max(len(a), len(b)) // 2 - 1, 0)
    a_hit = [False] * len(a)
    b_hit = [False] * len(b)
    matches = 0
    for i, ch in enumerate(a):
        for j in range(max(0, i - window), min(len(b), i + window + 1)):
            if not b_hit[j] and b[j] == ch:
                a_hit[i] = b_hit[j] = True
                matches += 1
                break
    if matches == 0:
        return 0.0
    b_matched = iter(ch for ch, hit in zip(b, b_hit, strict=True) if hit)
    swaps = sum(ch != next(b_matched) for ch, hit in zip(a, a_hit, strict=True) if hit) // 2
    jaro = (matches / len(a) + matches / len(b) + (matches - swaps) / matches) / 3
    if jaro <= 0.7:
        return jaro
    prefix = 0
    for x, y in zip(a[:4], b[:4], strict=False):
        if x != y:
            break
        prefix += 1
    return jaro + prefix * 0.1 * (1 - jaro)


def _pairs(fn: Callable[[str, str], object], out: pa.DataType) -> Callable[..., pa.Array]:
    def call(left: pa.Array, right: pa.Array) -> pa.Array:
        return pa.array(
            [
                None if x is None or y is None else fn(x, y)
                for x, y in zip(left.to_pylist(), right.to_pylist(), strict=True)
            ],
            out,
        )

    call.__name__ = fn.__name__
    return call


damerau_levenshtein = _pairs(damerau_levenshtein_distance, pa.int64())
jaro_winkler_similarity = _pairs(jaro_winkler, pa.float64())
