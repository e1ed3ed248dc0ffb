"""The dashboard's map as one Vega-Lite chart: the country pack's admin areas as
geoshapes (shaded or not), incidents, deliveries and patrols as dots, region names as
text. Drawn as SVG by Vega (bundled with Streamlit): no WebGL, which headless or
GPU-less browsers draw in software for seconds, and text in the page's own fonts, so
names keep their accents (docs/dashboard.md).

Nothing here imports Streamlit: the chart's spec is tested without a browser.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import altair as alt
import pandas as pd

from ingest.serve.dashboard import palette

# Drawn bottom to top: patrols (many, small) under deliveries under incidents, so patrol
# dots do not hide the aid they may meet.
LAYER_ORDER = ("patrol", "delivery", "incident")
HEIGHT = 640
# the choropleth's ramp, white to dark purple: no hue of the entities' palette
SHADE = ("#ffffff", "#54278f")
SHADE_OPACITY = 170 / 255
OUTLINE = {"admin1": ("#505050", 2.5), "admin2": ("#a0a0a0", 1.0)}
PER_PEOPLE = 100_000
# Vega-Lite's default embed renderer is canvas; SVG keeps the labels as text in the page
SVG = {"embedOptions": {"renderer": "svg"}}


@dataclass(frozen=True)
class Shading:
    """Values per admin area of one level, and the legend's words."""

    level: str  # "admin1" or "admin2"
    values: dict[str, float]
    what: str

    @property
    def top(self) -> float:
        return max(self.values.values(), default=0.0) or 1.0

    def legend(self) -> str:
        kind = "Regions" if self.level == "admin1" else "Districts"
        top = f"{self.top:,.0f}" if self.top >= 100 else f"{self.top:.3g}"
        return f"{kind} shaded by {self.what}: white 0 to dark purple {top}"


def per_people(
    values: pd.Series, parents: dict[str, str], population: dict[str, dict[str, int]]
) -> tuple[str, dict[str, float]] | None:
    """`values` (per admin2 p-code) per PER_PEOPLE people, at the finest level whose every
    area with a value has a population: districts, else summed into their regions. None
    when the population does not cover them (the pack has none, or too little)."""
    counts = {str(k): float(v) for k, v in values.items()}
    admin2 = population.get("admin2", {})
    if admin2 and all(admin2.get(p) for p in counts):
        return "admin2", {p: counts.get(p, 0.0) * PER_PEOPLE / n for p, n in admin2.items() if n}
    admin1 = population.get("admin1", {})
    summed: dict[str, float] = {}
    for pcode, value in counts.items():
        region = parents.get(pcode, pcode if pcode in admin1 else "")
        summed[region] = summed.get(region, 0.0) + value
    if admin1 and all(admin1.get(p) for p in summed):
        return "admin1", {p: summed.get(p, 0.0) * PER_PEOPLE / n for p, n in admin1.items() if n}
    return None


def _features(
    areas: list[dict[str, Any]], keep: set[str] | None, values: dict[str, float] | None
) -> list[dict[str, Any]]:
    """GeoJSON features of the areas kept (all when `keep` is None), each with its p-code,
    name and value (0 where the shading has none)."""
    return [
        {
            "type": "Feature",
            "geometry": a["geometry"],
            "properties": {
                "pcode": a["pcode"],
                "name": a["name"],
                "value": (values or {}).get(a["pcode"], 0.0),
            },
        }
        for a in areas
        if keep is None or a["pcode"] in keep
    ]


def kept_areas(
    bounds: dict[str, list[dict]], admin1: tuple[str, ...], admin2: tuple[str, ...]
) -> dict[str, set[str] | None]:
    """The p-codes of each level to draw under the filters (None: all)."""
    keep1 = set(admin1) or None
    keep2 = set(admin2) or None
    if keep2 is None and keep1 is not None:
        keep2 = {a["pcode"] for a in bounds["admin2"] if a["admin1_pcode"] in keep1}
    return {"admin1": keep1, "admin2": keep2}


def _area_layer(features: list[dict[str, Any]], level: str, shading: Shading | None) -> alt.Chart:
    colour, width = OUTLINE[level]
    base = alt.Chart(alt.Data(values=features))
    tooltip = [
        alt.Tooltip("properties.name:N", title="name"),
        alt.Tooltip("properties.pcode:N", title="p-code"),
    ]
    if shading is None or shading.level != level:
        return base.mark_geoshape(fill=None, filled=False, stroke=colour, strokeWidth=width)
    return base.mark_geoshape(stroke=colour, strokeWidth=width, fillOpacity=SHADE_OPACITY).encode(
        color=alt.Color(
            "properties.value:Q",
            title=shading.what,
            scale=alt.Scale(domain=[0, shading.top], range=list(SHADE), interpolate="rgb"),
        ),
        tooltip=[*tooltip, alt.Tooltip("properties.value:Q", title=shading.what, format=",.3g")],
    )


def _dots(points: pd.DataFrame) -> alt.Chart:
    order = {layer: i for i, layer in enumerate(LAYER_ORDER)}
    dots = points.assign(
        kind=points["layer"].map(palette.PLURALS), _z=points["layer"].map(order)
    ).sort_values("_z", kind="stable")  # Vega draws in data order: bottom layer first
    dots = dots[["kind", "longitude", "latitude", "day", "detail", "admin2_pcode", "n"]]
    encoding = {
        "longitude": "longitude:Q",
        "latitude": "latitude:Q",
        "color": alt.Color(
            "kind:N",
            title=None,
            scale=alt.Scale(domain=palette.scale_domain(), range=palette.scale_range()),
        ),
        "tooltip": [
            "kind:N",
            "day:N",
            "detail:N",
            alt.Tooltip("admin2_pcode:N", title="district"),
            alt.Tooltip("n:Q", title="records", format=","),
        ],
    }
    if dots["n"].max() > 1:  # binned (queries.MAX_DOTS): a dot's area is its count
        encoding["size"] = alt.Size(
            "n:Q", title="records per dot", scale=alt.Scale(range=[20, 400])
        )
    return (
        alt.Chart(dots)
        .mark_circle(size=48, opacity=1, stroke="white", strokeWidth=1)
        .encode(**encoding)
    )


def _labels(areas: list[dict[str, Any]], keep: set[str] | None) -> list[alt.Chart]:
    """Region names at their centres, in full: a white halo under dark text."""
    names = pd.DataFrame(
        [
            {"name": a["name"], "longitude": a["centre"][0], "latitude": a["centre"][1]}
            for a in areas
            if keep is None or a["pcode"] in keep
        ],
        columns=["name", "longitude", "latitude"],
    )
    base = alt.Chart(names).encode(longitude="longitude:Q", latitude="latitude:Q", text="name:N")
    style = {"fontSize": 14, "fontWeight": 600}
    return [
        base.mark_text(**style, stroke="white", strokeWidth=4, strokeOpacity=0.8),
        base.mark_text(**style, fill="#323232"),
    ]


def map_chart(
    bounds: dict[str, list[dict]],
    points: pd.DataFrame,
    admin1: tuple[str, ...] = (),
    admin2: tuple[str, ...] = (),
    shading: Shading | None = None,
) -> alt.LayerChart | None:
    """The map under the filters' areas: shading under outlines under dots under labels.
    None when there is nothing to draw (no boundaries and no located points)."""
    keep = kept_areas(bounds, admin1, admin2)
    layers: list[alt.Chart] = []
    for level in ("admin2", "admin1"):
        values = shading.values if shading is not None and shading.level == level else None
        features = _features(bounds[level], keep[level], values)
        if features:
            layers.append(_area_layer(features, level, shading))
    if not points.empty:
        layers.append(_dots(points))
    if bounds["admin1"]:
        layers += _labels(bounds["admin1"], keep["admin1"])
    if not layers:
        return None
    return (
        alt.layer(*layers)
        .project(type="mercator")
        .resolve_scale(color="independent")
        .properties(height=HEIGHT, usermeta=SVG)
        .configure_view(stroke=None)
    )
