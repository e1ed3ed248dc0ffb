"""dbt-duckdb plugin: the geometry UDFs the staging models call.

The DuckDB `spatial` extension cannot be installed here, so place logic that is
not plain SQL runs in Python, vectorised over Arrow arrays (one call per batch
of about 2,048 rows, never one per row):

- `mgrs_to_lat(ref)`, `mgrs_to_lon(ref)`: a military grid reference (MGRS) to
  WGS84 degrees (centre of the referenced cell), NULL when unparsable: the `mgrs`
  package's answer, computed in numpy (module `mgrs_grid`).
- `collapse_doubles(name)`: a name with every doubled letter single, for name matching.
- `admin2_at(lat, lon)`, `admin1_at(lat, lon)`: the p-code of the country packs'
  admin2 (admin1) boundary that contains the point, NULL outside every one (and
  always NULL for a pack without boundaries). Polygons are read once from the
  packs (WKT) and indexed with a shapely STRtree.

Registered in `dbt_project/profiles.yml` under `plugins:` (module
`ingest.warehouse.plugins`); the packs are those the build names in
PEACEOPS_COUNTRY_PACKS (ingest.warehouse.runner.dbt_env).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from ingest.settings import Settings
from ingest.warehouse import mgrs_grid
from ingest.warehouse.country_pack import load_packs, polygons

# DuckDB calls mgrs_to_lat and mgrs_to_lon on the same batch one after the other: the
# second takes the first's decoding (the batch, compared by content, and its results)
_mgrs_last: tuple[pa.Array | pa.ChunkedArray, np.ndarray, np.ndarray] | None = None


def _mgrs_decoded(values: pa.Array | pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    global _mgrs_last
    last = _mgrs_last  # read once: another thread may replace it
    if last is not None and type(last[0]) is type(values) and last[0].equals(values):
        return last[1], last[2]
    lat, lon = mgrs_grid.decode(values)
    _mgrs_last = (values, lat, lon)
    return lat, lon


def _nan_as_null(x: np.ndarray) -> pa.Array:
    return pa.array(x, pa.float64(), mask=np.isnan(x))


def mgrs_to_lat(values: pa.Array) -> pa.Array:
    return _nan_as_null(_mgrs_decoded(values)[0])


def mgrs_to_lon(values: pa.Array) -> pa.Array:
    return _nan_as_null(_mgrs_decoded(values)[1])


class AreaIndex:
    """Point-in-polygon over the admin areas of one level (shapely STRtree)."""

    def __init__(self, areas: list[tuple[str, str]]):
        import shapely

        self.pcodes = np.array([code for code, _ in areas], dtype=object)
        self.geoms = np.array([shapely.from_wkt(wkt) for _, wkt in areas], dtype=object)
        self.tree = shapely.STRtree(self.geoms)

    def lookup(self, lat: np.ndarray, lon: np.ndarray) -> list[str | None]:
        import shapely

        out: list[str | None] = [None] * len(lat)
        ok = np.isfinite(lat) & np.isfinite(lon)
        idx = np.nonzero(ok)[0]
        if len(idx) == 0 or len(self.geoms) == 0:
            return out
        points = shapely.points(lon[idx], lat[idx])
        # (input index, tree index) pairs where the point lies in (or on) the polygon;
        # on a shared border the lowest p-code wins, so the answer is deterministic.
        pairs = self.tree.query(points, predicate="intersects")
        best: dict[int, str] = {}
        for i, t in zip(pairs[0].tolist(), pairs[1].tolist(), strict=True):
            code = self.pcodes[t]
            if i not in best or code < best[i]:
                best[i] = code
        for i, code in best.items():
            out[int(idx[i])] = code
        return out


@functools.lru_cache(maxsize=8)
def area_index(packs: tuple[str, ...], level: int) -> AreaIndex:
    return AreaIndex(polygons(load_packs([Path(p) for p in packs]), level))


def _floats(values: pa.Array) -> np.ndarray:
    return np.asarray(values.cast(pa.float64()).fill_null(np.nan).to_numpy(zero_copy_only=False))


def make_area_at(packs: tuple[str, ...], level: int) -> Callable[[pa.Array, pa.Array], pa.Array]:
    def area_at(lat: pa.Array, lon: pa.Array) -> pa.Array:
        if not packs:
            return pa.nulls(len(lat), pa.string())
        index = area_index(packs, level)
        return pa.array(index.lookup(_floats(lat), _floats(lon)), pa.string())

    return area_at


_DOUBLED = re.compile(r"(.)\1+")


def collapse_doubles(values: pa.Array) -> pa.Array:
    """'attalaye' -> 'atalaye': names agencies spell with a letter doubled or not match.
    (DuckDB's regular expressions have no back-references.) Called on distinct names."""
    return pa.array(
        [None if v is None else _DOUBLED.sub(r"\1", v) for v in values.to_pylist()], pa.string()
    )


def register(conn: duckdb.DuckDBPyConnection, packs: tuple[str, ...] = ()) -> None:
    """Register the UDFs on a DuckDB connection (idempotent)."""
    from duckdb.func import ARROW, SPECIAL
    from duckdb.sqltypes import DOUBLE, VARCHAR

    udfs: list[tuple[str, Any, list, Any]] = [
        ("mgrs_to_lat", mgrs_to_lat, [VARCHAR], DOUBLE),
        ("mgrs_to_lon", mgrs_to_lon, [VARCHAR], DOUBLE),
        ("admin2_at", make_area_at(packs, 2), [DOUBLE, DOUBLE], VARCHAR),
        ("admin1_at", make_area_at(packs, 1), [DOUBLE, DOUBLE], VARCHAR),
        ("collapse_doubles", collapse_doubles, [VARCHAR], VARCHAR),
    ]
    for name, fn, params, ret in udfs:
        try:
            conn.create_function(
                name, fn, params, ret, type=ARROW, null_handling=SPECIAL, side_effects=False
            )
        except duckdb.CatalogException as err:
            # cursors of a connection share its functions: registered once is enough
            if "already exists" not in str(err):
                raise


try:
    from dbt.adapters.duckdb.plugins import BasePlugin
except ImportError:  # dbt is optional for users of `register` alone
    BasePlugin = object


class Plugin(BasePlugin):
    def initialize(self, plugin_config: dict[str, Any]) -> None:
        # the build names the registry's country packs in the environment (warehouse.dbt_env)
        self.packs = tuple(str(p) for p in Settings.resolve().packs_override or ())

    def configure_connection(self, conn: duckdb.DuckDBPyConnection) -> None:
        register(conn, self.packs)

    def configure_cursor(self, cursor: duckdb.DuckDBPyConnection) -> None:
        register(cursor, self.packs)
