"""Query logic of the dashboard: pure functions over the published dataset.

Nothing here imports Streamlit, so it tests without a browser.

Reading a published dataset (ingest.publish.writer): resolve `published/current` ONCE per
page run (os.path.realpath), open `<version>/<audience>/unified.duckdb` read-only,
run every query, close. A publish that switches `current` meanwhile is picked up on
the next run; a version pruned meanwhile stays readable through the open file.

Filters (`Filters`), and which view each applies to:

    date range   incidents (occurred_on; in the history, occurred_at's UTC day), deliveries (delivered_on), patrols
                 (started_on), deconfliction (delivered_at, UTC day), duplication
                 (week_start within the range, less 6 days), coverage gaps (the
                 uncovered span overlaps the range). Not timeliness: its weeks are
                 weeks of *reporting*, not of occurrence.
    admin1/2     every view with an admin area (deconfliction through dim_locations);
                 not timeliness.
    agency       incidents (any reporting agency; in the history, the report's), deliveries, patrols, deconfliction
                 (patrol or delivery agency), timeliness. Not coverage gaps or
                 duplication (they are per area, and name organisations, not agencies).
    sector       deliveries, duplication and deconfliction (the delivery's cluster).
                 Incidents and patrols have no sector.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from ingest.sessions import connect, one


@contextlib.contextmanager
def open_readonly(path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection to one published database, closed on exit."""
    con = connect(path, read_only=True)
    try:
        yield con
    finally:
        con.close()


# ---------------------------------------------------------------------------
# filters


@dataclass(frozen=True)
class Filters:
    start: date | None = None
    end: date | None = None
    admin1: tuple[str, ...] = ()
    admin2: tuple[str, ...] = ()
    agencies: tuple[str, ...] = ()
    sectors: tuple[str, ...] = ()


@dataclass
class _Where:
    clauses: list[str] = field(default_factory=list)
    params: list[Any] = field(default_factory=list)

    def add(self, clause: str, *params: Any) -> None:
        self.clauses.append(clause)
        self.params.extend(params)

    def sql(self) -> str:
        return ("WHERE " + " AND ".join(self.clauses)) if self.clauses else ""


def _tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    rows = con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'"
    ).fetchall()
    return {r[0] for r in rows}


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> set[str]:
    rows = con.execute(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_schema = 'main' AND table_name = ?",
        [table],
    ).fetchall()
    return {r[0] for r in rows}


def _dates(w: _Where, f: Filters, expr: str) -> None:
    if f.start is not None:
        w.add(f"{expr} >= ?", f.start)
    if f.end is not None:
        w.add(f"{expr} <= ?", f.end)


def _areas(w: _Where, f: Filters, admin1: str, admin2: str) -> None:
    if f.admin1:
        w.add(f"list_contains(?::VARCHAR[], {admin1})", list(f.admin1))
    if f.admin2:
        w.add(f"list_contains(?::VARCHAR[], {admin2})", list(f.admin2))


def _in(w: _Where, values: tuple[str, ...], expr: str) -> None:
    if values:
        w.add(f"list_contains(?::VARCHAR[], {expr})", list(values))


def _empty(columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame({c: [] for c in columns})


# ---------------------------------------------------------------------------
# filter options


@dataclass(frozen=True)
class Options:
    min_date: date | None
    max_date: date | None
    admin1: dict[str, str]  # pcode -> name
    admin2: dict[str, tuple[str, str]]  # pcode -> (name, admin1 pcode)
    agencies: dict[str, str]  # agency_id -> name
    sectors: dict[str, str]  # cluster_code -> name


def filter_options(con: duckdb.DuckDBPyConnection) -> Options:
    tables = _tables(con)
    spans = []
    for table, col in (
        ("fct_incidents", "occurred_on"),
        ("fct_aid_deliveries", "delivered_on"),
        ("fct_patrols", "started_on"),
    ):
        if table in tables:
            spans.append(f"SELECT min({col}) AS lo, max({col}) AS hi FROM {table}")
    lo = hi = None
    if spans:
        lo, hi = one(con.execute(f"SELECT min(lo), max(hi) FROM ({' UNION ALL '.join(spans)})"))
    admin1: dict[str, str] = {}
    admin2: dict[str, tuple[str, str]] = {}
    if "dim_locations" in tables:
        for a2, a2_name, a1, a1_name in con.execute(
            "SELECT admin2_pcode, admin2_name, admin1_pcode, admin1_name FROM dim_locations "
            "ORDER BY admin1_pcode, admin2_pcode"
        ).fetchall():
            admin1.setdefault(a1, a1_name or a1)
            admin2[a2] = (a2_name or a2, a1)
    agencies: dict[str, str] = {}
    if "dim_agencies" in tables:
        agencies = dict(
            con.execute(
                "SELECT agency_id, coalesce(agency_name, agency_id) FROM dim_agencies "
                "ORDER BY agency_id"
            ).fetchall()
        )
    sectors: dict[str, str] = {}
    if "fct_aid_deliveries" in tables:
        sectors = dict(
            con.execute(
                "SELECT cluster_code, any_value(coalesce(cluster_name, cluster_code)) "
                "FROM fct_aid_deliveries WHERE cluster_code IS NOT NULL "
                "GROUP BY cluster_code ORDER BY cluster_code"
            ).fetchall()
        )
    return Options(lo, hi, admin1, admin2, agencies, sectors)


# ---------------------------------------------------------------------------
# facts


INCIDENT_COLUMNS = [
    "incident_id",
    "occurred_on",
    "incident_type",
    "fatalities",
    "latitude",
    "longitude",
    "admin1_pcode",
    "admin2_pcode",
    "agency_ids",
    "confidence",
]
DELIVERY_COLUMNS = [
    "delivery_id",
    "delivered_on",
    "agency_id",
    "organisation_name",
    "cluster_code",
    "cluster_name",
    "beneficiaries",
    "latitude",
    "longitude",
    "admin1_pcode",
    "admin2_pcode",
]
PATROL_COLUMNS = [
    "patrol_id",
    "started_on",
    "agency_id",
    "patrol_type",
    "latitude",
    "longitude",
    "admin1_pcode",
    "admin2_pcode",
]


def _incident_where(f: Filters) -> _Where:
    w = _Where()
    _dates(w, f, "occurred_on")
    _areas(w, f, "admin1_pcode", "admin2_pcode")
    if f.agencies:
        w.add("list_has_any(agency_ids, ?::VARCHAR[])", list(f.agencies))
    return w


def _delivery_where(f: Filters) -> _Where:
    w = _Where()
    _dates(w, f, "delivered_on")
    _areas(w, f, "admin1_pcode", "admin2_pcode")
    _in(w, f.agencies, "agency_id")
    _in(w, f.sectors, "cluster_code")
    return w


def _patrol_where(f: Filters) -> _Where:
    w = _Where()
    _dates(w, f, "started_on")
    _areas(w, f, "admin1_pcode", "admin2_pcode")
    _in(w, f.agencies, "agency_id")
    return w


def _select(
    con: duckdb.DuckDBPyConnection, table: str, columns: list[str], w: _Where, order: str
) -> pd.DataFrame:
    if table not in _tables(con):
        return _empty(columns)
    have = _columns(con, table)
    cols = ", ".join(c if c in have else f"NULL AS {c}" for c in columns)
    sql = f"SELECT {cols} FROM {table} {w.sql()} ORDER BY {order}"
    return con.execute(sql, w.params).df()


def incidents(con: duckdb.DuckDBPyConnection, f: Filters) -> pd.DataFrame:
    return _select(con, "fct_incidents", INCIDENT_COLUMNS, _incident_where(f), "incident_id")


def deliveries(con: duckdb.DuckDBPyConnection, f: Filters) -> pd.DataFrame:
    return _select(con, "fct_aid_deliveries", DELIVERY_COLUMNS, _delivery_where(f), "delivery_id")


def patrols(con: duckdb.DuckDBPyConnection, f: Filters) -> pd.DataFrame:
    return _select(con, "fct_patrols", PATROL_COLUMNS, _patrol_where(f), "patrol_id")


def _count(con: duckdb.DuckDBPyConnection, table: str, w: _Where, expr: str = "count(*)") -> int:
    if table not in _tables(con):
        return 0
    value = one(con.execute(f"SELECT {expr} FROM {table} {w.sql()}", w.params))[0]
    return int(value or 0)


def headline(con: duckdb.DuckDBPyConnection, f: Filters) -> dict[str, int]:
    """The headline numbers for the current filter."""
    return {
        "incidents": _count(con, "fct_incidents", _incident_where(f)),
        "fatalities": _count(con, "fct_incidents", _incident_where(f), "sum(fatalities)"),
        "deliveries": _count(con, "fct_aid_deliveries", _delivery_where(f)),
        "beneficiaries": _count(
            con, "fct_aid_deliveries", _delivery_where(f), "sum(beneficiaries)"
        ),
        "patrols": _count(con, "fct_patrols", _patrol_where(f)),
        "deconfliction_alerts": deconfliction_count(con, f),
    }


POINT_COLUMNS = [
    "layer",
    "latitude",
    "longitude",
    "day",
    "detail",
    "admin1_pcode",
    "admin2_pcode",
    "n",
]
# Past this many located records the map gets one dot per layer and grid cell (GRID
# cells across the points' extent), sized by its count: a browser draws thousands of
# SVG dots in a blink, not the hundreds of thousands of a 1M-event log.
MAX_DOTS = 5_000
GRID = 60


def map_points(
    con: duckdb.DuckDBPyConnection, f: Filters, max_dots: int = MAX_DOTS
) -> pd.DataFrame:
    """Incidents, deliveries and patrols with coordinates, one frame (column `layer`; `n`
    records per row: 1, or a grid cell's count when there are more than `max_dots`)."""
    tables = _tables(con)
    parts, params = [], []
    for layer, table, day, detail, where in (
        ("incident", "fct_incidents", "occurred_on", "incident_type", _incident_where),
        ("delivery", "fct_aid_deliveries", "delivered_on", "cluster_name", _delivery_where),
        ("patrol", "fct_patrols", "started_on", "patrol_type", _patrol_where),
    ):
        if table not in tables:
            continue
        w = where(f)
        w.add("latitude IS NOT NULL AND longitude IS NOT NULL")
        text = detail if detail in _columns(con, table) else "NULL"
        parts.append(
            f"SELECT '{layer}' AS layer, latitude, longitude, CAST({day} AS VARCHAR) AS day, "
            f"CAST({text} AS VARCHAR) AS detail, admin1_pcode, admin2_pcode FROM {table} "
            f"{w.sql()}"
        )
        params += w.params
    if not parts:
        return _empty(POINT_COLUMNS)
    located = " UNION ALL ".join(parts)
    total, west, east, south, north = one(
        con.execute(
            f"SELECT count(*), min(longitude), max(longitude), min(latitude), max(latitude) "
            f"FROM ({located})",
            params,
        )
    )
    if total <= max_dots:
        return con.execute(f"SELECT *, 1 AS n FROM ({located})", params).df()
    cell = max(east - west, north - south, 1e-6) / GRID
    return con.execute(
        f"""SELECT layer, avg(latitude) AS latitude, avg(longitude) AS longitude,
            min(day) || ' to ' || max(day) AS day, NULL::VARCHAR AS detail,
            mode(admin1_pcode) AS admin1_pcode, mode(admin2_pcode) AS admin2_pcode,
            count(*) AS n
        FROM ({located})
        GROUP BY layer, floor((longitude - {west}) / {cell}), floor((latitude - {south}) / {cell})""",
        params,
    ).df()


def daily_counts(con: duckdb.DuckDBPyConnection, f: Filters) -> pd.DataFrame:
    """Per day and kind (incidents, deliveries, patrols): how many, under the filter."""
    tables = _tables(con)
    parts, params = [], []
    for kind, table, day, where in (
        ("incidents", "fct_incidents", "occurred_on", _incident_where(f)),
        ("deliveries", "fct_aid_deliveries", "delivered_on", _delivery_where(f)),
        ("patrols", "fct_patrols", "started_on", _patrol_where(f)),
    ):
        if table in tables:
            parts.append(
                f"SELECT '{kind}' AS kind, {day} AS day, count(*) AS n FROM {table} "
                f"{where.sql()} GROUP BY ALL"
            )
            params.extend(where.params)
    if not parts:
        return _empty(["kind", "day", "n"])
    return con.execute(" UNION ALL ".join(parts) + " ORDER BY day, kind", params).df()


# ---------------------------------------------------------------------------
# coordination views


def coverage_gaps(con: duckdb.DuckDBPyConnection, f: Filters) -> pd.DataFrame:
    columns = [
        "admin1_pcode",
        "admin2_pcode",
        "admin2_name",
        "gap_days",
        "incident_count",
        "uncovered_incident_count",
        "uncovered_fatalities",
        "first_uncovered_at",
        "last_uncovered_at",
        "last_delivery_at",
    ]
    tables = _tables(con)
    if "coordination_coverage_gaps" not in tables:
        return _empty(columns)
    w = _Where()
    if f.start is not None:
        w.add("(g.last_uncovered_at IS NULL OR CAST(g.last_uncovered_at AS DATE) >= ?)", f.start)
    if f.end is not None:
        w.add("(g.first_uncovered_at IS NULL OR CAST(g.first_uncovered_at AS DATE) <= ?)", f.end)
    _areas(w, f, "g.admin1_pcode", "g.admin2_pcode")
    name = "l.admin2_name" if "dim_locations" in tables else "NULL"
    join = "LEFT JOIN dim_locations l USING (admin2_pcode)" if "dim_locations" in tables else ""
    sql = (
        "SELECT g.admin1_pcode, g.admin2_pcode, "
        f"{name} AS admin2_name, g.gap_days, g.incident_count, g.uncovered_incident_count, "
        "g.uncovered_fatalities, g.first_uncovered_at, g.last_uncovered_at, g.last_delivery_at "
        f"FROM coordination_coverage_gaps g {join} {w.sql()} "
        "ORDER BY g.uncovered_incident_count DESC, g.admin2_pcode"
    )
    return con.execute(sql, w.params).df()


def duplication(con: duckdb.DuckDBPyConnection, f: Filters) -> pd.DataFrame:
    columns = [
        "admin1_pcode",
        "admin2_pcode",
        "cluster_code",
        "cluster_name",
        "week_start",
        "organisation_count",
        "organisations",
        "delivery_count",
        "beneficiaries",
    ]
    if "coordination_duplication" not in _tables(con):
        return _empty(columns)
    w = _Where()
    if f.start is not None:
        w.add("week_start >= ?", f.start - timedelta(days=6))
    if f.end is not None:
        w.add("week_start <= ?", f.end)
    _areas(w, f, "admin1_pcode", "admin2_pcode")
    _in(w, f.sectors, "cluster_code")
    sql = (
        f"SELECT {', '.join(columns)} FROM coordination_duplication {w.sql()} "
        "ORDER BY week_start, admin2_pcode, cluster_code"
    )
    return con.execute(sql, w.params).df()


DECONFLICTION_COLUMNS = [
    "deconfliction_id",
    "admin2_pcode",
    "patrol_agency_id",
    "delivery_agency_id",
    "organisation_name",
    "patrol_started_at",
    "patrol_ended_at",
    "delivered_at",
    "distance_km",
    "hours_apart",
    "patrol_id",
    "delivery_id",
]


def _deconfliction_from(con: duckdb.DuckDBPyConnection, f: Filters) -> tuple[str, list[Any]] | None:
    """The alerts under the filter: `FROM ... WHERE ...` and its parameters, or None when
    the filter cannot be applied to this database (nothing matches)."""
    tables = _tables(con)
    if "coordination_deconfliction" not in tables:
        return None
    w = _Where()
    _dates(w, f, "CAST(d.delivered_at AS DATE)")
    joins = []
    if f.admin1:
        if "dim_locations" not in tables:
            return None
        joins.append("LEFT JOIN dim_locations l ON l.admin2_pcode = d.admin2_pcode")
        w.add("list_contains(?::VARCHAR[], l.admin1_pcode)", list(f.admin1))
    if f.admin2:
        w.add("list_contains(?::VARCHAR[], d.admin2_pcode)", list(f.admin2))
    if f.agencies:
        w.add(
            "(list_contains(?::VARCHAR[], d.patrol_agency_id) "
            "OR list_contains(?::VARCHAR[], d.delivery_agency_id))",
            list(f.agencies),
            list(f.agencies),
        )
    if f.sectors:
        if "fct_aid_deliveries" not in tables:
            return None
        joins.append("LEFT JOIN fct_aid_deliveries a ON a.delivery_id = d.delivery_id")
        w.add("list_contains(?::VARCHAR[], a.cluster_code)", list(f.sectors))
    return f"FROM coordination_deconfliction d {' '.join(joins)} {w.sql()}", w.params


def deconfliction(
    con: duckdb.DuckDBPyConnection, f: Filters, limit: int | None = None
) -> pd.DataFrame:
    """The alerts, closest first; the first `limit` only when given (at 1M events a
    mission sees millions: a page shows the closest)."""
    source = _deconfliction_from(con, f)
    if source is None:
        return _empty(DECONFLICTION_COLUMNS)
    cols = ", ".join(f"d.{c}" for c in DECONFLICTION_COLUMNS)
    sql = f"SELECT {cols} {source[0]} ORDER BY d.distance_km, d.hours_apart, d.deconfliction_id" + (
        f" LIMIT {int(limit)}" if limit is not None else ""
    )
    return con.execute(sql, source[1]).df()


def deconfliction_count(con: duckdb.DuckDBPyConnection, f: Filters) -> int:
    source = _deconfliction_from(con, f)
    if source is None:
        return 0
    return int(one(con.execute(f"SELECT count(*) {source[0]}", source[1]))[0])


def timeliness(con: duckdb.DuckDBPyConnection, f: Filters) -> pd.DataFrame:
    columns = [
        "agency_id",
        "week_start",
        "event_count",
        "report_count",
        "correction_count",
        "retraction_count",
        "lag_hours_median",
        "lag_hours_p90",
        "complete_share",
        "quarantine_rate",
    ]
    if "coordination_agency_timeliness" not in _tables(con):
        return _empty(columns)
    w = _Where()
    _in(w, f.agencies, "agency_id")
    sql = (
        f"SELECT {', '.join(columns)} FROM coordination_agency_timeliness {w.sql()} "
        "ORDER BY agency_id, week_start"
    )
    return con.execute(sql, w.params).df()


KNOWN_COLUMNS = [
    "admin1_pcode",
    "reports_then",
    "reports_now",
    "added_since",
    "corrected_since",
    "gone_since",
]


def known_then_vs_now(con: duckdb.DuckDBPyConnection, moment: datetime, f: Filters) -> pd.DataFrame:
    """Incident reports per province as known at `moment` and as known now, from the
    version's history (fct_incident_history: each version of a report with the interval
    in which it was the known one), so no rebuild is needed: then, now, and how many
    were added, corrected (another version now) or retracted since."""
    if "fct_incident_history" not in _tables(con):
        return _empty(KNOWN_COLUMNS)
    w = _Where()
    _dates(w, f, "CAST(occurred_at AS DATE)")
    _areas(w, f, "admin1_pcode", "admin2_pcode")
    _in(w, f.agencies, "agency_id")
    sql = f"""
        WITH history AS (SELECT * FROM fct_incident_history {w.sql()}),
        then_known AS (
            SELECT record_key, event_id, admin1_pcode FROM history
            WHERE known_from <= ? AND (known_to IS NULL OR known_to > ?)
        ),
        now_known AS (
            SELECT record_key, event_id, admin1_pcode FROM history WHERE known_to IS NULL
        )
        SELECT coalesce(n.admin1_pcode, t.admin1_pcode) AS admin1_pcode,
            count(t.record_key) AS reports_then, count(n.record_key) AS reports_now,
            count(*) FILTER (WHERE t.record_key IS NULL) AS added_since,
            count(*) FILTER (WHERE t.event_id <> n.event_id) AS corrected_since,
            count(*) FILTER (WHERE n.record_key IS NULL) AS gone_since
        FROM then_known t FULL OUTER JOIN now_known n ON t.record_key = n.record_key
        GROUP BY ALL ORDER BY admin1_pcode
    """
    return con.execute(sql, [*w.params, moment, moment]).df()


# ---------------------------------------------------------------------------
# the map's admin boundaries


def _country_packs(root: Path) -> list:
    """The packs the feed registry names; none when it or they cannot be read (the map
    then shows points only)."""
    from ingest.feeds.registry import RegistryError
    from ingest.settings import Settings
    from ingest.warehouse.country_pack import PackError, load_packs

    try:
        return load_packs(Settings.resolve(data_dir=root).packs)
    except (RegistryError, PackError, OSError):
        return []


def admin_populations(root: Path) -> dict[str, dict[str, int]]:
    """People per admin area from the country packs ({"admin1": {p-code: n}, "admin2":
    ...}), for the areas that have a population; empty when the packs have none."""
    from ingest.warehouse.country_pack import populations

    packs = _country_packs(root)
    return {"admin1": populations(packs, 1), "admin2": populations(packs, 2)}


def admin_boundaries(root: Path) -> dict[str, list[dict[str, Any]]]:
    """Outlines of the country packs' admin areas for the map, drawn from their WKT
    (no tiles): {"admin1": [...], "admin2": [...]}, each area {"pcode", "name",
    "geometry" (GeoJSON, exterior rings only), "centre" [lon, lat], "admin1_pcode"}. An
    admin1 area without a boundary of its own is the union of its admin2 areas. Empty
    lists when the packs have no boundaries or the feed registry naming them cannot be
    read: the map shows points."""
    from shapely import wkt
    from shapely.geometry import MultiPolygon, Polygon, mapping
    from shapely.geometry.polygon import orient
    from shapely.ops import unary_union

    from ingest.warehouse.country_pack import combined, polygons

    out: dict[str, list[dict[str, Any]]] = {"admin1": [], "admin2": []}
    packs = _country_packs(root)
    names = {
        level: {r[f"{level}_pcode"]: r[f"{level}_name"] for r in combined(packs, level)}
        for level in ("admin1", "admin2")
    }
    shapes = {level: {p: wkt.loads(text) for p, text in polygons(packs, n)} for n, level in
              ((1, "admin1"), (2, "admin2"))}  # fmt: skip
    parents = {r["admin2_pcode"]: r["admin1_pcode"] for r in combined(packs, "admin2")}
    by_admin1: dict[str, list[Any]] = {}
    for pcode, shape in shapes["admin2"].items():
        by_admin1.setdefault(parents.get(pcode, ""), []).append(shape)
    for pcode, parts in by_admin1.items():
        if pcode and pcode not in shapes["admin1"]:
            shapes["admin1"][pcode] = unary_union(parts)
    for level, areas in shapes.items():
        for pcode, shape in sorted(areas.items()):
            # Holes dropped (an enclave is an area of its own, drawn over its surround);
            # rings clockwise, as d3-geo (Vega) reads them: the other way round is the
            # rest of the globe.
            parts = [
                orient(Polygon(g.exterior), sign=-1.0)
                for g in getattr(shape, "geoms", [shape])
                if not g.is_empty
            ]
            centre = shape.representative_point()
            out[level].append(
                {
                    "pcode": pcode,
                    "name": names[level].get(pcode, pcode),
                    "geometry": mapping(parts[0] if len(parts) == 1 else MultiPolygon(parts)),
                    "centre": [centre.x, centre.y],
                    "admin1_pcode": pcode if level == "admin1" else parents.get(pcode),
                }
            )
    return out
