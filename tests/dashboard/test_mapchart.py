"""The map's Vega-Lite spec, without a browser: names in full, the palette, the shading
and per-capita figures."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from ingest.serve.dashboard import mapchart, palette
from ingest.serve.dashboard import queries as q

REPO = Path(__file__).resolve().parents[2]
# Names as packs spell them: French accents and apostrophes (Carana, Haiti), Ge'ez script
# (Ethiopia's regions in Amharic).
NAMES = {"XX01": "Côte-Ouest", "XX02": "Grand'Anse", "XX03": "ትግራይ", "XX04": "Tarabé"}


def _square(x: float, y: float) -> dict:
    ring = [[x, y], [x, y + 1], [x + 1, y + 1], [x + 1, y], [x, y]]
    return {"type": "Polygon", "coordinates": [ring]}


def _bounds() -> dict[str, list[dict]]:
    admin1 = [
        {"pcode": p, "name": n, "geometry": _square(i, 0), "centre": [i + 0.5, 0.5],
         "admin1_pcode": p}
        for i, (p, n) in enumerate(NAMES.items())
    ]  # fmt: skip
    admin2 = [
        {"pcode": f"{a['pcode']}01", "name": f"district of {a['name']}",
         "geometry": a["geometry"], "centre": a["centre"], "admin1_pcode": a["pcode"]}
        for a in admin1
    ]  # fmt: skip
    return {"admin1": admin1, "admin2": admin2}


def _points() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "layer": ["incident", "patrol", "delivery"],
            "latitude": [0.5, 0.4, 0.6],
            "longitude": [0.5, 1.5, 2.5],
            "day": ["2030-01-01"] * 3,
            "detail": ["battle", "foot", "food"],
            "admin1_pcode": ["XX01", "XX02", "XX03"],
            "admin2_pcode": ["XX0101", "XX0201", "XX0301"],
            "n": [1, 1, 1],
        }
    )


def _layers(chart) -> list[dict]:
    spec = chart.to_dict()
    for layer in spec["layer"]:
        data = layer.get("data", {})
        if "name" in data:  # Altair moves frames to top-level datasets
            layer["values"] = spec["datasets"][data["name"]]
        else:
            layer["values"] = data.get("values", [])
    return spec["layer"]


def test_region_labels_keep_their_accents_and_scripts():
    """deck.gl's character set dropped accented letters (issue 21); the labels are now
    the pack's names, exactly, drawn as SVG text."""
    chart = mapchart.map_chart(_bounds(), _points())
    spec = chart.to_dict()
    assert spec["usermeta"]["embedOptions"]["renderer"] == "svg"
    texts = [layer for layer in _layers(chart) if layer["mark"]["type"] == "text"]
    assert texts, "no label layer"
    for layer in texts:
        assert layer["encoding"]["text"]["field"] == "name"
        assert sorted(v["name"] for v in layer["values"]) == sorted(NAMES.values())


def test_the_filter_keeps_its_regions_only():
    chart = mapchart.map_chart(_bounds(), _points(), admin1=("XX03",))
    layers = _layers(chart)
    labels = {
        v["name"] for layer in layers if layer["mark"]["type"] == "text" for v in layer["values"]
    }
    assert labels == {"ትግራይ"}
    areas = [v["properties"]["pcode"] for layer in layers if layer["mark"]["type"] == "geoshape"
             for v in layer["values"]]  # fmt: skip
    assert sorted(areas) == ["XX03", "XX0301"]


def test_dots_in_the_palette_bottom_layer_first():
    layers = _layers(mapchart.map_chart(_bounds(), _points()))
    (dots,) = [layer for layer in layers if layer["mark"]["type"] == "circle"]
    scale = dots["encoding"]["color"]["scale"]
    assert scale == {"domain": palette.scale_domain(), "range": palette.scale_range()}
    assert dots["mark"]["opacity"] == 1  # Vega-Lite's default 0.7 would blend the colours
    assert [v["kind"] for v in dots["values"]] == ["patrols", "deliveries", "incidents"]
    assert "size" not in dots["encoding"]  # one record, one dot of one size
    binned = mapchart.map_chart(_bounds(), _points().assign(n=[1, 40, 3]))
    (dots,) = [layer for layer in _layers(binned) if layer["mark"]["type"] == "circle"]
    assert dots["encoding"]["size"]["field"] == "n"


def test_shading_of_districts_white_to_purple():
    shading = mapchart.Shading("admin2", {"XX0101": 4.0, "XX0201": 1.0}, "coverage gaps")
    layers = _layers(mapchart.map_chart(_bounds(), _points(), shading=shading))
    shaded = [layer for layer in layers if "color" in layer.get("encoding", {})
              and layer["mark"]["type"] == "geoshape"]  # fmt: skip
    assert len(shaded) == 1
    colour = shaded[0]["encoding"]["color"]
    assert colour["scale"] == {
        "domain": [0, 4.0],
        "range": list(mapchart.SHADE),
        "interpolate": "rgb",
    }
    values = {v["properties"]["pcode"]: v["properties"]["value"] for v in shaded[0]["values"]}
    assert values == {"XX0101": 4.0, "XX0201": 1.0, "XX0301": 0.0, "XX0401": 0.0}
    assert shading.legend() == "Districts shaded by coverage gaps: white 0 to dark purple 4"


def test_no_map_without_boundaries_or_points():
    empty = {"admin1": [], "admin2": []}
    assert mapchart.map_chart(empty, _points().iloc[0:0]) is None
    assert mapchart.map_chart(empty, _points()) is not None  # points alone still draw


def test_per_people_at_the_finest_level_with_a_population():
    values = pd.Series({"XX0101": 3, "XX0201": 1})
    parents = {"XX0101": "XX01", "XX0201": "XX02"}
    districts = {"admin2": {"XX0101": 300_000, "XX0201": 50_000}, "admin1": {"XX01": 1}}
    assert mapchart.per_people(values, parents, districts) == (
        "admin2",
        {"XX0101": 1.0, "XX0201": 2.0},
    )
    # districts without people: summed into their regions
    regions = {"admin2": {"XX0101": 300_000}, "admin1": {"XX01": 600_000, "XX02": 100_000}}
    assert mapchart.per_people(values, parents, regions) == (
        "admin1",
        {"XX01": 0.5, "XX02": 1.0},
    )
    assert mapchart.per_people(values, parents, {"admin1": {}, "admin2": {}}) is None
    assert mapchart.per_people(values, parents, {"admin1": {"XX01": 5}, "admin2": {}}) is None


@pytest.mark.parametrize(
    ("level", "top", "words"),
    [("admin1", 12345.6, "Regions shaded by x: white 0 to dark purple 12,346"),
     ("admin2", 0.123456, "Districts shaded by x: white 0 to dark purple 0.123")],
)  # fmt: skip
def test_shading_legend_names_its_level_and_top(level, top, words):
    assert mapchart.Shading(level, {"A": top}, "x").legend() == words


def test_carana_names_reach_the_map_in_full(monkeypatch, tmp_path):
    monkeypatch.setenv("PEACEOPS_FEEDS", str(REPO / "feeds.yaml"))
    chart = mapchart.map_chart(q.admin_boundaries(tmp_path), _points().iloc[0:0])
    labels = {v["name"] for layer in _layers(chart) if layer["mark"]["type"] == "text"
              for v in layer["values"]}  # fmt: skip
    assert {"Côte-Ouest", "Tarabé"} <= labels
