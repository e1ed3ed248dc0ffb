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

import os
import unicodedata
from datetime import UTC, date, datetime, time, timedelta

import altair as alt
import pandas as pd
import pydeck as pdk
import streamlit as st

from ingest.dashboard import queries as q
from ingest.paths import data_dir

LAYER_COLOURS = {
    "incident": [215, 48, 39, 200],
    "delivery": [26, 152, 80, 190],
    "patrol": [44, 123, 182, 190],
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


def _area_labels(points: pd.DataFrame, names: dict[str, str]) -> pd.DataFrame:
    """One label per admin1 area, at the centre of its points (there is no boundary data)."""
    located = points.dropna(subset=["admin1_pcode"])
    centres = located.groupby("admin1_pcode", as_index=False)[["latitude", "longitude"]].mean()
    # deck.gl's TextLayer draws ASCII only unless given a character set, which its JSON
    # converter mangles: label with the names' ASCII fold (Côte-Ouest -> Cote-Ouest).
    return centres.assign(name=centres["admin1_pcode"].map(lambda p: _ascii(names.get(p, p))))


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def _map(points: pd.DataFrame, admin1_names: dict[str, str]) -> None:
    st.subheader("Map")
    with st.container(key="map"):
        if points.empty:
            st.info("No located incidents, deliveries or patrols under this filter.")
            return
        points = points.assign(
            colour=points["layer"].map(LAYER_COLOURS),
            radius=points["layer"].map({"incident": 2500, "delivery": 1800, "patrol": 1500}),
        )
        layers = [
            pdk.Layer(
                "ScatterplotLayer",
                data=points[points["layer"] == layer],
                get_position=["longitude", "latitude"],
                get_fill_color="colour",
                get_radius="radius",
                radius_min_pixels=3,
                pickable=True,
                id=f"layer-{layer}",
            )
            for layer in ("delivery", "patrol", "incident")
            if (points["layer"] == layer).any()
        ]
        labels = _area_labels(points, admin1_names)
        if not labels.empty:
            layers.append(
                pdk.Layer(
                    "TextLayer",
                    data=labels,
                    get_position=["longitude", "latitude"],
                    get_text="name",
                    get_size=15,
                    get_color=[60, 60, 60, 230],
                    font_weight=600,
                    background=True,
                    get_background_color=[255, 255, 255, 170],
                    id="layer-admin1",
                )
            )
        view = pdk.ViewState(
            latitude=float(points["latitude"].mean()),
            longitude=float(points["longitude"].mean()),
            zoom=6,
        )
        deck = pdk.Deck(
            layers=layers,
            initial_view_state=view,
            map_provider=None,
            map_style=NO_BASE_MAP,
            tooltip={"text": "{layer} {day}\n{detail}\n{admin2_pcode}"},
        )
        st.pydeck_chart(deck, height=460)
        st.caption(
            "● incidents (red)  ● deliveries (green)  ● patrols (blue); labels: regions "
            "(admin 1) at the centre of their points. "
            "No base map: this dashboard fetches nothing from the internet."
        )


def _daily_chart(daily: pd.DataFrame) -> None:
    st.subheader("Per day")
    if daily.empty:
        st.info("Nothing under this filter.")
        return
    chart = (
        alt.Chart(daily)
        .mark_line(point=True)
        .encode(
            x=alt.X("day:T", title="day"),
            y=alt.Y("n:Q", title="count"),
            color=alt.Color("kind:N", title=None),
            tooltip=["day:T", "kind:N", "n:Q"],
        )
        .properties(height=260)
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
            y=alt.Y("admin2_pcode:N", title="district"),
            color=alt.Color("sum(organisation_count):Q", title="organisations"),
            tooltip=["admin2_pcode", "cluster_name", "sum(organisation_count):Q"],
        )
        .properties(height=max(120, 18 * dup["admin2_pcode"].nunique()))
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
    st.caption("Reporting lag (hours, median and 90th percentile), completeness, quarantine.")
    if tl.empty:
        st.info("No timeliness figures for this audience.")
        return
    lag = tl.melt(
        id_vars=["agency_id", "week_start"],
        value_vars=["lag_hours_median", "lag_hours_p90"],
        var_name="measure",
        value_name="hours",
    )
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
    quality = tl.melt(
        id_vars=["agency_id"],
        value_vars=["complete_share", "quarantine_rate"],
        var_name="measure",
        value_name="share",
    )
    quality_chart = (
        alt.Chart(quality)
        .mark_bar()
        .encode(
            x=alt.X("agency_id:N", title="agency"),
            xOffset="measure:N",
            y=alt.Y("mean(share):Q", title="share", axis=alt.Axis(format="%")),
            color=alt.Color("measure:N", title=None),
            tooltip=["agency_id", "measure", alt.Tooltip("mean(share):Q", format=".1%")],
        )
        .properties(height=260)
    )
    left, right = st.columns(2)
    with left, st.container(key="chart-timeliness"):
        st.altair_chart(lag_chart, width="stretch")
    with right, st.container(key="chart-quality"):
        st.altair_chart(quality_chart, width="stretch")
    st.dataframe(tl, hide_index=True, width="stretch")


def main() -> None:
    st.set_page_config(page_title="PeaceOps Data Hub", layout="wide")
    st.title("PeaceOps Data Hub")
    root = data_dir()
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

    left, right = st.columns([3, 2])
    with left:
        _map(points, opts.admin1)
    with right:
        _daily_chart(daily)

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
