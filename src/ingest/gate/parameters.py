"""The expectation parameters of a gate run: what the committed suites leave to run time.

The suites name their value sets and bounds as `$PARAMETER`s; this module reads them
from the warehouse being checked (its seeds, country packs and registry) and from the
registry's mission, so the suites hold no vocabulary that could drift from the data.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import duckdb

from ingest.gate.marts import VOCABULARIES
from ingest.sessions import one

WORLD = {"min_lat": -90.0, "max_lat": 90.0, "min_lon": -180.0, "max_lon": 180.0}


def country_bounds(con: duckdb.DuckDBPyConnection) -> dict[str, float]:
    """The bounding box of every boundary (WKT) and place of the country packs. A country
    without boundaries keeps its records' points as sent (nothing can check them), so
    then the bounds are only those of WGS84 itself."""
    import shapely

    unbounded = one(
        con.execute(
            "SELECT count(*) FROM pack.admin0 WHERE admin0_pcode NOT IN ("
            "SELECT a1.admin0_pcode FROM pack.admin1 AS a1 LEFT JOIN pack.admin2 AS a2 "
            "ON a1.admin1_pcode = a2.admin1_pcode WHERE a1.wkt IS NOT NULL OR a2.wkt IS NOT NULL)"
        )
    )[0]
    if unbounded:
        return dict(WORLD)
    wkts = [
        w
        for (w,) in con.execute(
            "SELECT wkt FROM pack.admin2 WHERE wkt IS NOT NULL "
            "UNION ALL SELECT wkt FROM pack.admin1 WHERE wkt IS NOT NULL"
        ).fetchall()
    ]
    boxes = [shapely.from_wkt(w).bounds for w in wkts]  # (min_lon, min_lat, max_lon, max_lat)
    places = con.execute(
        "SELECT min(longitude), min(latitude), max(longitude), max(latitude) FROM pack.places"
    ).fetchone()
    if places and places[0] is not None:
        boxes.append(places)
    if not boxes:
        return dict(WORLD)
    return {
        "min_lon": min(b[0] for b in boxes),
        "min_lat": min(b[1] for b in boxes),
        "max_lon": max(b[2] for b in boxes),
        "max_lat": max(b[3] for b in boxes),
    }


def vocabularies(con: duckdb.DuckDBPyConnection) -> dict[str, list[Any]]:
    return {
        f"vocab_{name}": sorted(v for (v,) in con.execute(sql).fetchall() if v is not None)
        for name, sql in VOCABULARIES.items()
    }


def expectation_parameters(
    con: duckdb.DuckDBPyConnection, now: datetime, mission_start: date
) -> dict[str, Any]:
    import pandas as pd

    start = datetime(mission_start.year, mission_start.month, mission_start.day, tzinfo=UTC)
    return {
        "now": pd.Timestamp(now),
        "mission_start": pd.Timestamp(start),
        **country_bounds(con),
        **vocabularies(con),
    }
