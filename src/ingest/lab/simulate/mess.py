"""The faults real feeds have, applied the same way to every feed.

A feed module builds one "base" row per truth item it reports (columns in the
agency's own names plus `_occ`, `_truth`), then `publish` adds publication
times, late arrivals, corrections, retractions, malformed fields and the rows
ingest must quarantine; after the feed has formatted its record ids,
`add_duplicates` re-sends a few records verbatim in later files.

Internal columns start with "_" and are never written.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

Mutator = Callable[[pd.DataFrame, np.random.Generator], pd.DataFrame]
DAY = np.timedelta64(86400, "s")


@dataclass(frozen=True)
class Rates:
    """Fractions of a feed's base records (documented in docs/feeds.md)."""

    late: float = 0.05
    correction: float = 0.03
    retraction: float = 0.01
    malformed: float = 0.015
    quarantine: float = 0.008
    duplicate: float = 0.015


RATES = Rates()


def how_many(rng: np.random.Generator, n: int, rate: float) -> int:
    """Binomial count, but at least one when the feed is big enough to show each fault."""
    k = int(rng.binomial(n, rate)) if n else 0
    return max(k, 1) if n >= 40 else k


def seconds(values: np.ndarray) -> np.ndarray:
    return np.round(values).astype("int64").astype("timedelta64[s]")


def publish(
    base: pd.DataFrame,
    rng: np.random.Generator,
    *,
    start: np.datetime64,
    days: int,
    period_days: int,
    delay_hours: float,
    correct: Mutator,
    retract: Mutator,
    malform: Mutator,
    rates: Rates = RATES,
) -> pd.DataFrame:
    """Publication stream of a feed, without duplicates; see the module docstring.

    Adds `_pub` (when published), `_file` (file index), `_seq` (1-based publication
    number, for the record id), `_target` (the `_seq` a correction/retraction points
    to, 0 if none), `_kind` and `_quarantine`.
    """
    base = base.reset_index(drop=True).copy()
    n = len(base)
    delay = rng.exponential(delay_hours * 3600, n) + 300
    late = rng.random(n) < rates.late
    # Late arrivals: the report reaches the agency's output days after the fact.
    delay[late] = rng.uniform(2 * 86400, 10 * 86400, late.sum())
    base["_pub"] = base["_occ"].to_numpy() + seconds(delay)
    base["_row"] = np.arange(n)
    base["_target_row"] = -1
    base["_kind"] = "report"
    base["_quarantine"] = False

    # Disjoint picks: quarantined rows are never corrected, retracted or made malformed.
    k_q, k_c, k_r, k_m = (
        how_many(rng, n, r)
        for r in (rates.quarantine, rates.correction, rates.retraction, rates.malformed)
    )
    k_total = min(n, k_q + k_c + k_r + k_m)
    picks = rng.permutation(n)[:k_total]
    q, c, r, m = np.split(picks, np.cumsum([k_q, k_c, k_r])[:3])
    base.loc[q, "_quarantine"] = True
    if len(m):
        base.loc[m] = malform(base.loc[m].copy(), rng)

    amendments = []
    for rows, kind, mutate in ((c, "correction", correct), (r, "retraction", retract)):
        if not len(rows):
            continue
        new = base.loc[rows].copy()
        new["_target_row"] = new["_row"]
        new["_kind"] = kind
        new["_pub"] = new["_pub"].to_numpy() + seconds(
            rng.uniform(0.2 * 86400, 4 * 86400, len(new))
        )
        amendments.append(mutate(new, rng))
    out = pd.concat([base, *amendments], ignore_index=True)
    out["_row"] = np.where(out["_kind"] == "report", out["_row"], -1)

    out = out.sort_values("_pub", kind="stable").reset_index(drop=True)
    out["_seq"] = np.arange(1, len(out) + 1)
    seq_of_row = pd.Series(out["_seq"].to_numpy(), index=out["_row"].to_numpy())
    seq_of_row = seq_of_row[seq_of_row.index >= 0]
    out["_target"] = out["_target_row"].map(seq_of_row).fillna(0).astype("int64")
    nfiles = n_files(days, period_days)
    out["_file"] = file_index(out["_pub"].to_numpy(), start, period_days, nfiles)
    return out.drop(columns=["_row", "_target_row"])


def n_files(days: int, period_days: int) -> int:
    return max(1, -(-days // period_days))


def file_index(pub: np.ndarray, start: np.datetime64, period_days: int, nfiles: int) -> np.ndarray:
    """Which file (day or week) a record published at `pub` goes into; late ones pile up last."""
    idx = (pub - start) // (DAY * period_days)
    return np.clip(idx.astype("int64"), 0, nfiles - 1)


def add_duplicates(
    df: pd.DataFrame,
    rng: np.random.Generator,
    *,
    start: np.datetime64,
    days: int,
    period_days: int,
    segment_starts: tuple[int, ...] = (),
    rate: float = RATES.duplicate,
) -> pd.DataFrame:
    """Re-send some records verbatim in a later file of the same layout segment.

    Only plain, readable records are re-sent, so a duplicate is never also a
    quarantine. `segment_starts` are file indices where the agency changed its
    columns (a re-send after that would not be byte-identical as a record).
    Returns the frame sorted in publication order, with `_dup` marking re-sends.
    """
    nfiles = n_files(days, period_days)
    bounds = np.array([*sorted(segment_starts), nfiles])
    seg_end = bounds[np.searchsorted(bounds, df["_file"].to_numpy(), side="right")] - 1
    ok = (~df["_quarantine"].to_numpy()) & (df["_file"].to_numpy() < seg_end)
    if nfiles == 1:  # one stream (an API): "later" means later in the stream
        ok = ~df["_quarantine"].to_numpy()
    candidates = np.flatnonzero(ok)
    k = min(len(candidates), how_many(rng, len(df), rate))
    rows = rng.choice(candidates, k, replace=False) if k else np.array([], dtype=int)
    dup = df.iloc[rows].copy()
    if nfiles == 1:
        dup["_pub"] = dup["_pub"].to_numpy() + seconds(rng.uniform(86400, 5 * 86400, k))
    else:
        later = dup["_file"].to_numpy() + rng.integers(1, 4, k)
        dup["_file"] = np.minimum(later, seg_end[rows])
        offset = rng.uniform(0, period_days * 86400, k)
        dup["_pub"] = start + (dup["_file"].to_numpy() * period_days * DAY) + seconds(offset)
    df = df.assign(_dup=False)
    dup["_dup"] = True
    out = pd.concat([df, dup], ignore_index=True)
    return out.sort_values(["_file", "_pub"], kind="stable").reset_index(drop=True)


def pick(rng: np.random.Generator, choices: np.ndarray | list, n: int) -> np.ndarray:
    """`n` random picks from `choices`, as an object array (for string columns)."""
    arr = np.asarray(choices, dtype=object)
    return arr[rng.integers(0, len(arr), n)]


def links(df: pd.DataFrame, feed_id: str, id_col: str, kind: str) -> pd.DataFrame:
    """report_links rows: every readable published record that reports a real thing."""
    keep = ~df["_quarantine"] & ~df["_dup"]
    # The two columns only: the whole frame's rows were copied (the simulator's peak).
    sub = df.loc[keep, [id_col, "_truth", "_kind"]]
    return pd.DataFrame(
        {
            "feed_id": feed_id,
            "record_id": sub[id_col].astype(str).to_numpy(),
            "truth_kind": kind,
            "truth_id": sub["_truth"].to_numpy(),
            "report_kind": sub["_kind"].to_numpy(),
        }
    )


def counts(df: pd.DataFrame, files: int) -> dict[str, int]:
    return {
        "records": len(df),
        "duplicates": int(df["_dup"].sum()),
        "quarantined": int(df["_quarantine"].sum()),
        "files": files,
    }
