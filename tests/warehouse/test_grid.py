"""The grid that resolution and deconfliction join on (macro grid_cell_sizes): two points
within the distance are in the same or neighbouring cells, wherever on Earth they are
(the poles and the date line aside). The join is exact only if this holds: a pair it
misses is a candidate never compared."""

from __future__ import annotations

import math

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests import dbt_macros

from .logbuilder import EARTH_KM


@pytest.fixture(scope="module")
def macros() -> dbt_macros.Macros:
    return dbt_macros.macros()


def destination(lat: float, lon: float, bearing: float, km: float) -> tuple[float, float]:
    """The point `km` from (lat, lon) along `bearing` (degrees) on the sphere."""
    phi, lam, theta, delta = map(math.radians, (lat, lon, bearing, math.degrees(km / EARTH_KM)))
    phi2 = math.asin(
        math.sin(phi) * math.cos(delta) + math.cos(phi) * math.sin(delta) * math.cos(theta)
    )
    lam2 = lam + math.atan2(
        math.sin(theta) * math.sin(delta) * math.cos(phi),
        math.cos(delta) - math.sin(phi) * math.sin(phi2),
    )
    return math.degrees(phi2), math.degrees(lam2)


@settings(max_examples=300, deadline=None)
@given(
    lat=st.floats(-80, 80),
    lon=st.floats(-170, 170),
    bearing=st.floats(0, 360),
    fraction=st.floats(0, 1),
    km=st.floats(0.5, 50),
    others=st.lists(st.tuples(st.floats(-80, 80), st.floats(-170, 170)), max_size=3),
)
def test_points_within_the_distance_are_in_neighbouring_cells(
    macros: dbt_macros.Macros,
    lat: float,
    lon: float,
    bearing: float,
    fraction: float,
    km: float,
    others: list[tuple[float, float]],
) -> None:
    near = destination(lat, lon, bearing, km * fraction)
    con = duckdb.connect()
    con.execute("create table points (id integer, latitude double, longitude double)")
    con.executemany(
        "insert into points values (?, ?, ?)",
        [(0, lat, lon), (1, *near)] + [(2 + i, *p) for i, p in enumerate(others)],
    )
    distance = macros.haversine_km("a.latitude", "a.longitude", "b.latitude", "b.longitude")
    (apart, dy, dx) = con.execute(
        f"with cell_sizes as ({macros.grid_cell_sizes(km, ['points'])}), "
        "cells as (select id, latitude, longitude, "
        "floor(latitude / latitude_degrees) as y, floor(longitude / longitude_degrees) as x "
        "from points cross join cell_sizes) "
        f"select {distance}, abs(a.y - b.y), abs(a.x - b.x) "
        "from cells as a, cells as b where a.id = 0 and b.id = 1"
    ).fetchall()[0]
    if apart <= km:
        assert dy <= 1 and dx <= 1, (apart, km, dy, dx)
