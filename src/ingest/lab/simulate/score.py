"""The warehouse scored against the simulator's ground truth: how well cross-agency
resolution pairs reports, and whether the people reached add up.

Both read a warehouse (an open DuckDB connection) and the simulator's truth directory.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

# entity -> (the resolution's relation, the id of what it resolves reports into)
RESOLUTIONS = {
    "incident": ("intermediate.int_incidents_resolved", "incident_id"),
    "delivery": ("intermediate.int_deliveries_resolved", "delivery_id"),
}


@dataclass(frozen=True)
class PairScore:
    """Pairwise scores of "these two reports (of different feeds) are the same real thing"."""

    precision: float
    recall: float
    predicted_pairs: int
    true_pairs: int

    def __str__(self) -> str:
        return (
            f"precision {self.precision:.3f} recall {self.recall:.3f} "
            f"({self.predicted_pairs} predicted pairs, {self.true_pairs} true pairs)"
        )


@dataclass(frozen=True)
class Cell:
    """People reached in one admin1 area and month: truth and warehouse."""

    admin1_pcode: str
    month: str
    truth: int
    warehouse: int
    unknown: int = 0  # the truth's people whose figure no report gave readably

    @property
    def error(self) -> float:
        return self.warehouse / self.truth - 1 if self.truth else float("inf")


def _links(con: duckdb.DuckDBPyConnection, truth: Path) -> None:
    con.execute("SET TimeZone = 'UTC'")  # months of UTC times, as the truth's
    path = str(truth / "report_links.parquet").replace("'", "''")
    con.execute(f"CREATE OR REPLACE TEMP VIEW truth_links AS SELECT * FROM read_parquet('{path}')")


def resolution(con: duckdb.DuckDBPyConnection, truth: Path, entity: str) -> PairScore:
    """Pairwise precision and recall of the warehouse's resolution of `entity` reports."""
    relation, id_column = RESOLUTIONS[entity]
    _links(con, truth)
    row = con.execute(
        f"""
        WITH predicted AS (
            SELECT record_key, {id_column} AS predicted_id,
                   split_part(record_key, ':', 1) AS feed_id
            FROM {relation}
        ),
        truth_keys AS (
            SELECT DISTINCT feed_id || ':' || record_id AS record_key, truth_id
            FROM truth_links WHERE truth_kind = ?
        ),
        joined AS (
            SELECT p.record_key, p.feed_id, p.predicted_id, t.truth_id
            FROM predicted AS p INNER JOIN truth_keys AS t USING (record_key)
        ),
        pairs AS (
            SELECT a.predicted_id = b.predicted_id AS same_predicted,
                   a.truth_id = b.truth_id AS same_truth
            FROM joined AS a INNER JOIN joined AS b
              ON a.record_key < b.record_key AND a.feed_id <> b.feed_id
            WHERE a.predicted_id = b.predicted_id OR a.truth_id = b.truth_id
        )
        SELECT
            count(*) FILTER (WHERE same_predicted AND same_truth),
            count(*) FILTER (WHERE same_predicted),
            count(*) FILTER (WHERE same_truth)
        FROM pairs
        """,
        [entity],
    ).fetchone()
    both, predicted, actual = row if row else (0, 0, 0)
    return PairScore(
        precision=both / predicted if predicted else 1.0,
        recall=both / actual if actual else 1.0,
        predicted_pairs=predicted,
        true_pairs=actual,
    )


def beneficiaries(con: duckdb.DuckDBPyConnection, truth: Path) -> list[Cell]:
    """People reached per admin1 area and month of delivery (UTC), fct_aid_deliveries
    against the truth's deliveries that some feed still reports (a report no retraction of
    that feed withdrew) with a figure the warehouse could read: a figure every report
    gives unreadably ("n/a") is not known, and is left out of both sides (`unknown`)."""
    _links(con, truth)
    path = str(truth / "deliveries.parquet").replace("'", "''")
    rows = con.execute(
        f"""
        WITH reported AS (
            SELECT truth_id, feed_id || ':' || record_id AS record_key
            FROM truth_links
            WHERE truth_kind = 'delivery' AND report_kind = 'report'
              AND (truth_id, feed_id) NOT IN (
                  SELECT (truth_id, feed_id) FROM truth_links WHERE report_kind = 'retraction'
              )
        ),
        known AS (
            -- each reported truth delivery with its warehouse row's figure
            SELECT reported.truth_id, bool_or(facts.beneficiaries IS NOT NULL) AS is_known
            FROM reported
            LEFT JOIN (
                SELECT unnest(source_record_keys) AS record_key, beneficiaries
                FROM marts.fct_aid_deliveries
            ) AS facts USING (record_key)
            GROUP BY reported.truth_id
        ),
        areas AS (SELECT admin2_pcode, admin1_pcode FROM marts.dim_locations),
        truth AS (
            SELECT areas.admin1_pcode, strftime(d.delivered_at, '%Y-%m') AS month,
                   sum(d.beneficiaries) FILTER (WHERE known.is_known) AS people,
                   sum(d.beneficiaries) FILTER (WHERE NOT known.is_known) AS unknown
            FROM read_parquet('{path}') AS d
            INNER JOIN areas USING (admin2_pcode)
            INNER JOIN known ON d.delivery_id = known.truth_id
            GROUP BY ALL
        ),
        warehouse AS (
            SELECT admin1_pcode, strftime(delivered_at, '%Y-%m') AS month,
                   sum(beneficiaries) AS people
            FROM marts.fct_aid_deliveries
            GROUP BY ALL
        )
        SELECT admin1_pcode, month, coalesce(truth.people, 0), coalesce(warehouse.people, 0),
               coalesce(truth.unknown, 0)
        FROM truth FULL JOIN warehouse USING (admin1_pcode, month)
        ORDER BY admin1_pcode, month
        """
    ).fetchall()
    return [Cell(str(a), str(m), int(t), int(w), int(u)) for a, m, t, w, u in rows]
