"""PeaceOps dashboard (Streamlit): the published dataset, read-only.

Run with `peaceops dashboard` (or `make dashboard`). Reads
$PEACEOPS_DATA_DIR/published (default ./data/published): `current` is resolved once
per page run, `<version>/<audience>/unified.duckdb` opened read-only and closed after
the run's queries, so a new version can be published while the dashboard is up.

Nothing is fetched from outside localhost: the map is deck.gl (bundled with
Streamlit) without a base map, the charts are Vega-Lite (bundled too).

Environment:
    PEACEOPS_DATA_DIR                 data directory (default ./data)
    PEACEOPS_DASHBOARD_AUDIENCES      audiences offered, comma-separated, first is the
                                      default (default: public,partners,mission)
"""

from __future__ import annotations

import math
import os
import unicodedata
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import altair as alt
import pandas as pd
import pydeck as pdk
import streamlit as st

from ingest.serve.dashboard import palette
from ingest.serve.dashboard import queries as q
from ingest.settings import Settings

# Drawn bottom to top: patrols (many, small) under deliveries under incidents, so patrol
# dots do not hide the aid they may meet.
LAYER_ORDER = ("patrol", "delivery", "incident")
MAP_PIXELS = (1100, 640)  # about the map's width on a wide page, and its height
# the choropleth's ramp, white to dark purple: no hue of the entities' palette
SHADE = ((255, 255, 255), (84, 39, 143))
SHADE_ALPHA = 170
RADIUS = {"incident": 2600, "delivery": 2000, "patrol": 1200}
TIMELINESS_LABELS = {
    "lag_hours_median": "median lag",
    "lag_hours_p90": "90th percentile lag",
    "complete_share": "records complete",
    "quarantine_rate": "records quarantined",
}
# Streamlit's deck.gl component adds a Carto base map (fetched from the internet)
# unless mapStyle is this sentinel, which it drops: no base map, no request.
NO_BASE_MAP = "__MAP_STYLE__"


def _metric(key: str, label: str, value: int) -> None:
    # Stable hooks for browser tests: the container gets the CSS class st-key-<key>.
    with st.container(key=key):
        st.metric(label, f"{value:,}")


def _sidebar(root, versions: list[q.Version], audiences: tuple[str, ...]):
    st.sidebar.header("Dataset")
    names = [q.CURRENT] + [v.name for v in versions]
    by_name = {v.name: v for v in versions}
    current = next((v for v in versions if v.is_current), None)

    def label(name: str) -> str:
        if name == q.CURRENT:
            return "current" + (f" ({current.label()})" if current else "")
        return by_name[name].label()

    choice = st.sidebar.selectbox("Version (as of)", names, format_func=label, key="version")
    # time travel inside the version: its history of incident reports, no other version needed
    known_on = st.sidebar.date_input(
        "Incident reports as known on (end of day, UTC)", value=None, key="known-on"
    )
    audience = st.sidebar.selectbox("Audience", list(audiences), key="audience")
    return choice, audience, known_on


def _filters(opts: q.Options) -> q.Filters:
    st.sidebar.header("Filters")
    start = end = None
    if opts.min_date is not None and opts.max_date is not None:
        # The key carries the bounds: another version (or audience) with other dates
        # starts again from its whole span instead of keeping a range that no longer
        # fits (or silently cuts off the newest days).
        picked = st.sidebar.date_input(
            "Date range",
            value=(opts.min_date, opts.max_date),
            min_value=opts.min_date,
            max_value=opts.max_date,
            key=f"dates-{opts.min_date}-{opts.max_date}",
        )
        if isinstance(picked, tuple | list):
            if len(picked) >= 1:
                start = picked[0]
            if len(picked) == 2:
                end = picked[1]
        elif isinstance(picked, date):
            start = end = picked
    admin1 = st.sidebar.multiselect(
        "Admin 1 (region)",
        list(opts.admin1),
        format_func=lambda p: f"{opts.admin1[p]} ({p})",
        key="admin1",
        placeholder="all regions",
    )
    admin2_choices = [p for p, (_, a1) in opts.admin2.items() if not admin1 or a1 in admin1]
    admin2 = st.sidebar.multiselect(
        "Admin 2 (district)",
        admin2_choices,
        format_func=lambda p: f"{opts.admin2[p][0]} ({p})",
        key="admin2",
        placeholder="all districts",
    )
    agencies = st.sidebar.multiselect(
        "Agency",
        list(opts.agencies),
        format_func=lambda a: f"{a}: {opts.agencies[a]}",
        key="agencies",
        placeholder="all agencies",
    )
    sectors = st.sidebar.multiselect(
        "Sector (cluster)",
        list(opts.sectors),
        format_func=lambda c: f"{opts.sectors[c]} ({c})",
        key="sectors",
        placeholder="all sectors",
        help="Applies to deliveries, duplication and deconfliction.",
    )
    return q.Filters(
        start=start,
        end=end,
        admin1=tuple(admin1),
        admin2=tuple(a for a in admin2 if a in admin2_choices),
        agencies=tuple(agencies),
        sectors=tuple(sectors),
    )


@st.cache_data(show_spinner=False)
def _boundaries(root: str) -> dict[str, list[dict]]:
    # the country packs do not change while the dashboard runs: read and union them once
    return q.admin_boundaries(Path(root))


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def _outlines(areas: list[dict], keep: set[str] | None) -> pd.DataFrame:
    rows = [
        {"pcode": a["pcode"], "name": a["name"], "path": path}
        for a in areas
        if keep is None or a["pcode"] in keep
        for path in a["paths"]
    ]
    return pd.DataFrame(rows, columns=["pcode", "name", "path"])


def _boundary_layers(
    bounds: dict[str, list[dict]], f: q.Filters
) -> tuple[list[pdk.Layer], list[list[float]]]:
    """Admin2 outlines (thin) and admin1 outlines (thick) with admin1 names, from the
    country pack, and the outlines' points; only the regions and districts filtered to,
    when filtered."""
    admin1 = set(f.admin1) or None
    admin2 = set(f.admin2) or None
    if admin2 is None and admin1 is not None:
        admin2 = {a["pcode"] for a in bounds["admin2"] if a["admin1_pcode"] in admin1}
    corners: list[list[float]] = []
    drawn: list[tuple[pd.DataFrame, str, dict]] = []
    for level, keep, width, colour in (
        ("admin2", admin2, 1, [160, 160, 160, 255]),
        ("admin1", admin1, 3, [80, 80, 80, 255]),
    ):
        outlines = _outlines(bounds[level], keep)
        corners += [xy for path in outlines["path"] for xy in path]
        # a width in metres too thin to see, so the minimum in pixels is the width
        style = {"get_path": "path", "get_color": colour, "get_width": 1, "width_min_pixels": width}
        drawn.append((outlines, "PathLayer", {**style, "id": f"layer-{level}-outline"}))
    labels = pd.DataFrame(
        [
            # deck.gl's TextLayer draws only the characters of its character set, which
            # its JSON converter mangles: label with the names' ASCII fold (Côte-Ouest ->
            # Cote-Ouest); the sidebar and the tooltips keep the accents.
            {"name": _ascii(a["name"]), "full_name": a["name"], "position": a["centre"]}
            for a in bounds["admin1"]
            if admin1 is None or a["pcode"] in admin1
        ],
        columns=["name", "full_name", "position"],
    )
    text = {"get_position": "position", "get_text": "name", "get_size": 14, "font_weight": 600}
    box = {"background": True, "get_background_color": [255, 255, 255, 190]}
    drawn.append(
        (labels, "TextLayer", {**text, **box, "get_color": [50, 50, 50, 255], "id": "layer-admin1"})
    )
    layers = [pdk.Layer(kind, data=frame, **style) for frame, kind, style in drawn if len(frame)]
    return layers, corners


def _view(points: pd.DataFrame, outlines: list[list[float]]) -> pdk.ViewState:
    """Centred and zoomed on what is shown (the points, else the outlines) so that it
    fills the map's MAP_PIXELS: deck.gl's Web Mercator shows 360 degrees of longitude in 512 * 2**zoom
    pixels (pydeck's compute_view assumes a small square)."""
    where = points[["longitude", "latitude"]].values.tolist() if not points.empty else outlines
    if not where:
        return pdk.ViewState(latitude=0, longitude=0, zoom=1)
    lon = [float(x) for x, _ in where]
    lat = [float(y) for _, y in where]
    width, height = MAP_PIXELS
    dx = max(max(lon) - min(lon), 0.01)
    # a degree of latitude is longer than one of longitude away from the equator
    dy = max(max(lat) - min(lat), 0.01) / math.cos(math.radians((max(lat) + min(lat)) / 2))
    zoom = min(math.log2(width * 360 / (512 * dx)), math.log2(height * 360 / (512 * dy)))
    return pdk.ViewState(
        latitude=(max(lat) + min(lat)) / 2,
        longitude=(max(lon) + min(lon)) / 2,
        zoom=max(1.0, min(14.0, zoom - 0.3)),  # a margin around the data
    )


def _shading(
    bounds: dict[str, list[dict]], values: pd.Series, f: q.Filters, what: str
) -> tuple[list[pdk.Layer], str]:
    """A choropleth of admin2 areas, value per p-code: light to dark in one hue outside the
    entities' palette (so the dots keep their meaning), with the legend in words."""
    if values.empty or not bounds["admin2"]:
        return [], ""
    top = float(values.max()) or 1.0
    keep = set(f.admin2) or None
    areas = _outlines(bounds["admin2"], keep)
    areas = areas.assign(value=areas["pcode"].map(values).fillna(0))

    def fill(value: float) -> list[int]:
        light, dark = SHADE
        return [round(a + (b - a) * value / top) for a, b in zip(light, dark, strict=True)] + [
            SHADE_ALPHA
        ]

    areas = areas.assign(fill=areas["value"].map(fill))
    layer = pdk.Layer(
        "PolygonLayer",
        data=areas,
        get_polygon="path",
        get_fill_color="fill",
        stroked=False,
        pickable=True,
        id="layer-admin2-shading",
    )
    return [layer], f"Districts shaded by {what}: white 0 to dark purple {top:g}"


def _map(
    points: pd.DataFrame,
    bounds: dict[str, list[dict]],
    f: q.Filters,
    shades: dict[str, pd.Series],
) -> None:
    st.subheader("Map")
    with st.container(key="map"):
        shade = st.radio(
            "Shade districts by",
            ["nothing", *shades],
            horizontal=True,
            key="shade",
            help="Per admin2 area, under the filters: uncovered incidents of the coverage "
            "gaps, or the sector-weeks with several organisations (duplication).",
        )
        shading, shading_legend = (
            _shading(bounds, shades[shade], f, shade) if shade in shades else ([], "")
        )
        layers, corners = _boundary_layers(bounds, f)
        layers = shading + layers
        if points.empty:
            st.info("No located incidents, deliveries or patrols under this filter.")
        points = points.assign(
            colour=points["layer"].map(palette.rgba),
            radius=points["layer"].map(RADIUS),
        )
        layers += [
            pdk.Layer(
                "ScatterplotLayer",
                data=points[points["layer"] == layer],
                get_position=["longitude", "latitude"],
                get_fill_color="colour",
                get_radius="radius",
                radius_min_pixels=4,
                stroked=True,  # a white rim tells overlapping dots apart
                get_line_color=[255, 255, 255, 255],
                line_width_min_pixels=1,
                pickable=True,
                id=f"layer-{layer}",
            )
            for layer in LAYER_ORDER
            if (points["layer"] == layer).any()
        ]
        # region names above everything
        layers.sort(key=lambda layer: layer.type == "TextLayer")
        deck = pdk.Deck(
            layers=layers,
            initial_view_state=_view(points, corners),
            map_provider=None,
            map_style=NO_BASE_MAP,
            tooltip={"text": "{layer} {day}\n{detail}\n{admin2_pcode}"},
        )
        st.pydeck_chart(deck, height=MAP_PIXELS[1], width="stretch")
        outlines = (
            "regions (thick) and districts (thin) from the country pack. "
            if any(bounds.values())
            else ""
        )
        st.caption(
            f"{palette.legend()}. {outlines.capitalize()}"
            f"{shading_legend + '. ' if shading_legend else ''}"
            "No base map: this dashboard fetches nothing from the internet."
        )


def _entity_colours() -> alt.Scale:
    return alt.Scale(domain=palette.scale_domain(), range=palette.scale_range())


def _series_chart(daily: pd.DataFrame) -> None:
    st.subheader("Over time")
    if daily.empty:
        st.info("Nothing under this filter.")
        return
    # Weekly by default: three daily series over months are unreadable; daily to zoom in
    # (the chart also zooms and pans along time with the mouse).
    step = st.radio("Series", ["weekly", "daily"], horizontal=True, key="series")
    series = daily.assign(day=pd.to_datetime(daily["day"]))
    if step == "weekly":
        week = series["day"] - pd.to_timedelta(series["day"].dt.day_of_week, unit="D")
        series = series.assign(day=week).groupby(["kind", "day"], as_index=False)["n"].sum()
    unit = "week starting" if step == "weekly" else "day"
    chart = (
        alt.Chart(series)
        .mark_line(point=True)
        .encode(
            x=alt.X("day:T", title=unit),
            y=alt.Y("n:Q", title=f"count per {step.removesuffix('ly').replace('dai', 'day')}"),
            color=alt.Color("kind:N", title=None, scale=_entity_colours()),
            tooltip=[alt.Tooltip("day:T", title=unit), "kind:N", "n:Q"],
        )
        .properties(height=300)
        .interactive(bind_y=False)
    )
    with st.container(key="chart-daily"):
        st.altair_chart(chart, width="stretch")


def _coverage(gaps: pd.DataFrame) -> None:
    st.subheader("Coverage gaps")
    st.caption("Districts with incidents but no aid delivery close in time.")
    if gaps.empty:
        st.info("No coverage gaps under this filter.")
        return
    chart = (
        alt.Chart(gaps)
        .mark_bar()
        .encode(
            x=alt.X("uncovered_incident_count:Q", title="uncovered incidents"),
            y=alt.Y("admin2_pcode:N", sort="-x", title="district"),
            color=alt.Color("gap_days:Q", title="gap (days)", legend=alt.Legend(format="d")),
            tooltip=[
                "admin2_pcode",
                "admin2_name",
                "uncovered_incident_count",
                "uncovered_fatalities",
                "gap_days",
            ],
        )
        .properties(height=max(120, 24 * len(gaps)))
    )
    with st.container(key="chart-coverage"):
        st.altair_chart(chart, width="stretch")
    st.dataframe(gaps, hide_index=True, width="stretch")


def _duplication(dup: pd.DataFrame) -> None:
    st.subheader("Duplication")
    st.caption("Several organisations delivering the same sector in one district the same week.")
    if dup.empty:
        st.info("No duplication under this filter.")
        return
    chart = (
        alt.Chart(dup)
        .mark_rect()
        .encode(
            x=alt.X("cluster_code:N", title="sector"),
            # every district labelled, not every other one
            y=alt.Y("admin2_pcode:N", title="district", axis=alt.Axis(labelOverlap=False)),
            # the most in any one week (a sum over weeks counted one organisation per week)
            color=alt.Color("max(organisation_count):Q", title="most organisations in one week"),
            tooltip=[
                alt.Tooltip("admin2_pcode", title="district"),
                alt.Tooltip("cluster_name", title="sector"),
                alt.Tooltip("max(organisation_count):Q", title="most organisations in a week"),
                alt.Tooltip("count():Q", title="weeks with duplication"),
            ],
        )
        .properties(height=max(120, 22 * dup["admin2_pcode"].nunique()))
    )
    with st.container(key="chart-duplication"):
        st.altair_chart(chart, width="stretch")
    shown = dup.assign(organisations=dup["organisations"].map(_join))
    st.dataframe(shown, hide_index=True, width="stretch")


def _join(value) -> str:
    try:
        return ", ".join(str(v) for v in value)
    except TypeError:
        return "" if value is None else str(value)


def _deconfliction(alerts: pd.DataFrame) -> None:
    st.subheader("Deconfliction alerts")
    st.caption("A patrol and an aid delivery close in space and time.")
    if alerts.empty:
        st.info("No deconfliction alerts under this filter (or not visible to this audience).")
        return
    with st.container(key="table-deconfliction"):
        st.dataframe(alerts, hide_index=True, width="stretch")


def _known_then(known: pd.DataFrame, day) -> None:
    st.subheader(f"Incident reports as known on {day} and now")
    st.caption(
        "From this version's fct_incident_history: each report in the version the hub knew "
        "at the end of that day (UTC), then what was added, corrected or retracted since."
    )
    if known.empty:
        st.info("No incident history in this version for this audience and these filters.")
        return
    with st.container(key="known-then"):
        st.dataframe(known, hide_index=True, width="stretch")


def _timeliness(tl: pd.DataFrame) -> None:
    st.subheader("Agency timeliness")
    st.caption(
        "Reporting lag (hours, median and 90th percentile), completeness, quarantine, per "
        "agency over the weeks the hub recorded its reports. Per agency and week only: the "
        "region, district and sector filters do not apply."
    )
    if tl.empty:
        st.info("No timeliness figures for this audience.")
        return
    lag = tl.melt(
        id_vars=["agency_id", "week_start"],
        value_vars=["lag_hours_median", "lag_hours_p90"],
        var_name="measure",
        value_name="hours",
    ).replace({"measure": TIMELINESS_LABELS})
    lag_chart = (
        alt.Chart(lag)
        .mark_bar()
        .encode(
            x=alt.X("agency_id:N", title="agency"),
            xOffset="measure:N",
            y=alt.Y("mean(hours):Q", title="lag (hours)"),
            color=alt.Color("measure:N", title=None),
            tooltip=["agency_id", "measure", "mean(hours):Q"],
        )
        .properties(height=260)
    )
    # Two charts, each on its own axis: quarantine rates under 1% vanish on the 0-100%
    # axis that completeness needs.
    quality = [
        (
            alt.Chart(tl.rename(columns={column: TIMELINESS_LABELS[column]}))
            .mark_bar()
            .encode(
                x=alt.X("agency_id:N", title="agency"),
                y=alt.Y(
                    f"mean({TIMELINESS_LABELS[column]}):Q",
                    title=f"{TIMELINESS_LABELS[column]} (share, mean of weeks)",
                    axis=alt.Axis(format=".1%" if column == "quarantine_rate" else "%"),
                ),
                tooltip=[
                    "agency_id",
                    alt.Tooltip(f"mean({TIMELINESS_LABELS[column]}):Q", format=".2%"),
                ],
            )
            .properties(height=260)
        )
        for column in ("complete_share", "quarantine_rate")
    ]
    left, middle, right = st.columns(3)
    with left, st.container(key="chart-timeliness"):
        st.altair_chart(lag_chart, width="stretch")
    with middle, st.container(key="chart-quality"):
        st.altair_chart(quality[0], width="stretch")
    with right, st.container(key="chart-quarantine"):
        st.altair_chart(quality[1], width="stretch")
    st.dataframe(tl, hide_index=True, width="stretch")


def main() -> None:
    st.set_page_config(page_title="PeaceOps Data Hub", layout="wide")
    st.title("PeaceOps Data Hub")
    root = Settings.resolve().data_dir
    try:
        audiences = q.allowed_audiences(os.environ.get("PEACEOPS_DASHBOARD_AUDIENCES"))
    except ValueError as err:
        st.error(str(err))
        st.stop()
    versions = q.list_versions(root)
    choice, audience, known_on = _sidebar(root, versions, audiences)
    version_dir = q.pick_version(root, choice)  # `current` resolved once, here
    if version_dir is None:
        st.warning(
            f"No published dataset under {q.published_dir(root)}. "
            "Run `peaceops run` (or `make demo`) first."
        )
        st.stop()
    db = q.audience_db(version_dir, audience)
    if not db.is_file():
        st.error(f"Version {version_dir.name} has no {audience} dataset.")
        st.stop()
    manifest = q.read_manifest(version_dir)

    with q.open_readonly(db) as con:
        opts = q.filter_options(con)
        f = _filters(opts)
        numbers = q.headline(con, f)
        points = q.map_points(con, f)
        daily = q.daily_counts(con, f)
        gaps = q.coverage_gaps(con, f)
        dup = q.duplication(con, f)
        alerts = q.deconfliction(con, f)
        tl = q.timeliness(con, f)
        moment = None
        if known_on is not None:
            moment = datetime.combine(known_on + timedelta(days=1), time(), tzinfo=UTC)
            known = q.known_then_vs_now(con, moment, f)

    with st.container(key="dataset-info"):
        st.caption(
            f"Version **{version_dir.name}** · as of {manifest.get('as_of', '?')} · "
            f"audience **{audience}** · gate "
            f"{'passed' if manifest.get('gate', {}).get('passed') else 'unknown'}"
        )

    cols = st.columns(6)
    for col, (key, label) in zip(
        cols,
        (
            ("incidents", "Incidents"),
            ("fatalities", "Fatalities"),
            ("deliveries", "Aid deliveries"),
            ("beneficiaries", "Beneficiaries"),
            ("patrols", "Patrols"),
            ("deconfliction_alerts", "Deconfliction alerts"),
        ),
        strict=True,
    ):
        with col:
            _metric(f"metric-{key.replace('_', '-')}", label, numbers[key])

    shades = {
        "coverage gaps": gaps.groupby("admin2_pcode")["uncovered_incident_count"].sum(),
        "duplication": dup.groupby("admin2_pcode").size(),
    }
    _map(points, _boundaries(str(root)), f, shades)
    _series_chart(daily)

    names = ["Coverage gaps", "Duplication", "Deconfliction", "Timeliness"]
    tabs = st.tabs(names if moment is None else [f"As known on {known_on}", *names])
    if moment is not None:
        with tabs[0]:
            _known_then(known, known_on)
        tabs = tabs[1:]
    with tabs[0]:
        _coverage(gaps)
    with tabs[1]:
        _duplication(dup)
    with tabs[2]:
        _deconfliction(alerts)
    with tabs[3]:
        _timeliness(tl)


main()
