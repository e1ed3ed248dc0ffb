"""PeaceOps dashboard (Streamlit): the published dataset, read-only.

Run with `peaceops dashboard` (or `make dashboard`). Reads
$PEACEOPS_DATA_DIR/published (default ./data/published): `current` is resolved once
per page run, `<version>/<audience>/unified.duckdb` opened read-only and closed after
the run's queries, so a new version can be published while the dashboard is up.

Nothing is fetched from outside localhost: the map and the charts are Vega-Lite
(bundled with Streamlit), the map drawn from the country pack's boundaries, without a
base map.

Environment:
    PEACEOPS_DATA_DIR                 data directory (default ./data)
    PEACEOPS_DASHBOARD_AUDIENCES      audiences offered, comma-separated, first is the
                                      default (default: public,partners,mission)
    PEACEOPS_DASHBOARD_TIMINGS        set: print each page run's seconds to stderr
"""

from __future__ import annotations

import hashlib
import sys
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from time import perf_counter
from typing import Any

import altair as alt
import pandas as pd
import pyarrow as pa
import streamlit as st

from ingest.publish import reader
from ingest.releasability import AUDIENCES
from ingest.serve.dashboard import mapchart, palette
from ingest.serve.dashboard import queries as q
from ingest.settings import Settings

# the deconfliction table's rows, closest first: a mission at 1M events has millions
ALERT_ROWS = 1_000
TIMELINESS_LABELS = {
    "lag_hours_median": "median lag",
    "lag_hours_p90": "90th percentile lag",
    "complete_share": "records complete",
    "quarantine_rate": "records quarantined",
}


def _arrow_dataset(data: pd.DataFrame, datasets: dict[str, bytes]) -> dict[str, str]:
    """An Altair data transformer: the frame as Arrow IPC bytes under a content name, as
    Streamlit's own sends chart data (no JSON records to turn back into a table)."""
    table = pa.Table.from_pandas(data, preserve_index=False)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    raw = sink.getvalue().to_pybytes()
    name = hashlib.sha256(raw).hexdigest()[:20]
    datasets[name] = raw
    return {"name": name}


alt.data_transformers.register("peaceops-arrow", _arrow_dataset)


def _spec(chart: alt.TopLevelMixin) -> dict[str, Any]:
    """The chart's Vega-Lite spec, its frames as Arrow. Without Altair's check of the spec
    against Vega-Lite's JSON schema, which st.altair_chart runs on every page run (0.3 to
    2 s for the map's GeoJSON on a loaded machine): the tests convert each chart with it.
    Altair's 5,000-row cap does not apply: the views are bounded (queries.MAX_DOTS)."""
    datasets: dict[str, bytes] = {}
    with alt.data_transformers.enable("peaceops-arrow", datasets=datasets):
        spec = chart.to_dict(validate=False)
    spec["datasets"] = {**spec.get("datasets", {}), **datasets}
    return spec


def _draw(chart: alt.TopLevelMixin | dict[str, Any]) -> None:
    """A chart (or its spec) as wide as its column."""
    st.vega_lite_chart(chart if isinstance(chart, dict) else _spec(chart), width="stretch")


def _metric(key: str, label: str, value: int) -> None:
    # Stable hooks for browser tests: the container gets the CSS class st-key-<key>.
    with st.container(key=key):
        st.metric(label, f"{value:,}")


def _sidebar(
    root: Path, versions: list[reader.Version], audiences: tuple[str, ...]
) -> tuple[str, str, date | None]:
    st.sidebar.header("Dataset")
    names = [reader.CURRENT] + [v.name for v in versions]
    by_name = {v.name: v for v in versions}
    current = next((v for v in versions if v.is_current), None)

    def label(name: str) -> str:
        if name == reader.CURRENT:
            return "current" + (f" ({current.label()})" if current else "")
        return by_name[name].label()

    choice = st.sidebar.selectbox("Version (as of)", names, format_func=label, key="version")
    # time travel inside the version: its history of incident reports, no other version needed
    known_on = st.sidebar.date_input(
        "Incident reports as known on (end of day, UTC)", value=None, key="known-on"
    )
    audience = st.sidebar.selectbox("Audience", list(audiences), key="audience")
    return choice, audience, known_on


def _any_of(label: str, options: list[str], **kwargs: Any) -> list[str]:
    # An empty choice already means all. Streamlit's "Select all" row would pin every
    # option instead, and a rerun redrawing the open list can land a click on it.
    return st.sidebar.multiselect(label, options, select_all=False, **kwargs)


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
    admin1 = _any_of(
        "Admin 1 (region)",
        list(opts.admin1),
        format_func=lambda p: f"{opts.admin1[p]} ({p})",
        key="admin1",
        placeholder="all regions",
    )
    admin2_choices = [p for p, (_, a1) in opts.admin2.items() if not admin1 or a1 in admin1]
    admin2 = _any_of(
        "Admin 2 (district)",
        admin2_choices,
        format_func=lambda p: f"{opts.admin2[p][0]} ({p})",
        key="admin2",
        placeholder="all districts",
    )
    agencies = _any_of(
        "Agency",
        list(opts.agencies),
        format_func=lambda a: f"{a}: {opts.agencies[a]}",
        key="agencies",
        placeholder="all agencies",
    )
    sectors = _any_of(
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


@st.cache_data(show_spinner=False)
def _populations(root: str) -> dict[str, dict[str, int]]:
    return q.admin_populations(Path(root))


def _shading(
    root: str, bounds: dict[str, list[dict]], shades: dict[str, pd.Series]
) -> tuple[mapchart.Shading | None, str]:
    """The shading the analyst picks (per area, or per 100,000 people where the country
    pack has a population), and a sentence when per-capita cannot be had."""
    shade = st.radio(
        "Shade areas by",
        ["nothing", *shades],
        horizontal=True,
        key="shade",
        help="Per admin2 area, under the filters: uncovered incidents of the coverage "
        "gaps, or the sector-weeks with several organisations (duplication).",
    )
    population = _populations(root)
    has_people = bool(population["admin1"] or population["admin2"])
    per_capita = st.toggle(
        f"per {mapchart.PER_PEOPLE:,} people",
        key="per-capita",
        disabled=not has_people,
        help="Divides by the population the country pack gives per area.",
    )
    note = (
        ""
        if has_people
        else "Per-capita shading needs a population per area in the country pack; this "
        "pack has none (docs/country-packs.md)."
    )
    if shade not in shades:
        return None, note
    values = shades[shade]
    if not per_capita:
        return mapchart.Shading("admin2", values.astype(float).to_dict(), shade), note
    parents = {a["pcode"]: a["admin1_pcode"] for a in bounds["admin2"]}
    rated = mapchart.per_people(values, parents, population)
    if rated is None:
        return None, (
            "The country pack's population does not cover the areas shaded: no per-capita shading."
        )
    level, per = rated
    return mapchart.Shading(level, per, f"{shade} per {mapchart.PER_PEOPLE:,} people"), ""


@st.cache_data(show_spinner=False, max_entries=64)
def _map_spec(
    root: str, db: str, stamp: tuple[int, int], f: q.Filters, shading: mapchart.Shading | None
) -> dict[str, Any] | None:
    """The map's spec for a version, audience, filters and shading seen before is made
    once: building and converting the chart costs more than the queries."""
    points = _views(db, stamp, f)["points"]
    chart = mapchart.map_chart(_boundaries(root), points, f.admin1, f.admin2, shading)
    return None if chart is None else _spec(chart)


def _map(
    root: str,
    db: str,
    stamp: tuple[int, int],
    f: q.Filters,
    shades: dict[str, pd.Series],
    located: bool,
) -> None:
    st.subheader("Map")
    bounds = _boundaries(root)
    with st.container(key="map"):
        shading, note = _shading(root, bounds, shades)
        if not located:
            st.info("No located incidents, deliveries or patrols under this filter.")
        spec = _map_spec(root, db, stamp, f, shading)
        if spec is not None:
            with st.container(key="map-chart"):
                _draw(spec)
        outlines = (
            "regions (thick) and districts (thin) from the country pack. "
            if any(bounds.values())
            else ""
        )
        legend = shading.legend() + ". " if shading is not None else ""
        st.caption(
            f"{palette.legend()}. {outlines.capitalize()}{legend}{note + ' ' if note else ''}"
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
        _draw(chart)


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
        _draw(chart)
    st.dataframe(gaps, hide_index=True, width="stretch")


def _duplication(dup: pd.DataFrame) -> None:
    st.subheader("Duplication")
    st.caption("Several organisations delivering the same sector in one district the same week.")
    if dup.empty:
        st.info("No duplication under this filter.")
        return
    # one cell per district and sector, aggregated here: the browser gets hundreds of
    # rows, not the thousands of sector-weeks of a long operation
    cells = dup.groupby(["admin2_pcode", "cluster_code"], as_index=False).agg(
        cluster_name=("cluster_name", "first"),
        # the most in any one week (a sum over weeks counted one organisation per week)
        most=("organisation_count", "max"),
        weeks=("week_start", "count"),
    )
    chart = (
        alt.Chart(cells)
        .mark_rect()
        .encode(
            x=alt.X("cluster_code:N", title="sector"),
            # every district labelled, not every other one
            y=alt.Y("admin2_pcode:N", title="district", axis=alt.Axis(labelOverlap=False)),
            color=alt.Color("most:Q", title="most organisations in one week"),
            tooltip=[
                alt.Tooltip("admin2_pcode", title="district"),
                alt.Tooltip("cluster_name", title="sector"),
                alt.Tooltip("most:Q", title="most organisations in a week"),
                alt.Tooltip("weeks:Q", title="weeks with duplication"),
            ],
        )
        .properties(height=max(120, 22 * dup["admin2_pcode"].nunique()))
    )
    with st.container(key="chart-duplication"):
        _draw(chart)
    shown = dup.assign(organisations=dup["organisations"].map(_join))
    st.dataframe(shown, hide_index=True, width="stretch")


def _join(value: Any) -> str:
    try:
        return ", ".join(str(v) for v in value)
    except TypeError:
        return "" if value is None else str(value)


def _deconfliction(alerts: pd.DataFrame, total: int) -> None:
    st.subheader("Deconfliction alerts")
    st.caption("A patrol and an aid delivery close in space and time.")
    if alerts.empty:
        st.info("No deconfliction alerts under this filter (or not visible to this audience).")
        return
    if total > len(alerts):
        st.caption(f"The closest {len(alerts):,} of {total:,} alerts (filter to see others).")
    with st.container(key="table-deconfliction"):
        st.dataframe(alerts, hide_index=True, width="stretch")


def _known_then(known: pd.DataFrame, day: date) -> None:
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
        _draw(lag_chart)
    with middle, st.container(key="chart-quality"):
        _draw(quality[0])
    with right, st.container(key="chart-quarantine"):
        _draw(quality[1])
    st.dataframe(tl, hide_index=True, width="stretch")


@st.cache_data(show_spinner=False, max_entries=16)
def _options(db: str, stamp: tuple[int, int]) -> q.Options:
    with q.open_readonly(Path(db)) as con:
        return q.filter_options(con)


@st.cache_data(show_spinner=False, max_entries=64)
def _views(db: str, stamp: tuple[int, int], f: q.Filters) -> dict[str, Any]:
    """The views above the tabs, of one published database under the filters: a page run
    that comes back to a version, audience and filters seen before (switching back, a
    tab, the shading) queries nothing."""
    with q.open_readonly(Path(db)) as con:
        return {
            "numbers": q.headline(con, f),
            "points": q.map_points(con, f),
            "daily": q.daily_counts(con, f),
            "gaps": q.coverage_gaps(con, f),
            "dup": q.duplication(con, f),
        }


@st.cache_data(show_spinner=False, max_entries=64)
def _tab_view(
    db: str, stamp: tuple[int, int], what: str, f: q.Filters, moment: datetime | None
) -> pd.DataFrame:
    """A view only one tab shows, queried when that tab is open (the closest alerts of
    millions take seconds at 1M events)."""
    with q.open_readonly(Path(db)) as con:
        if what == "alerts":
            return q.deconfliction(con, f, limit=ALERT_ROWS)
        if what == "timeliness":
            return q.timeliness(con, f)
        assert moment is not None, "the 'as known on' tab shows only with a moment"
        return q.known_then_vs_now(con, moment, f)


def main() -> None:
    st.set_page_config(page_title="PeaceOps Data Hub", layout="wide")
    st.title("PeaceOps Data Hub")
    settings = Settings.resolve()
    root = settings.data_dir
    try:
        audiences = settings.dashboard_audiences or tuple(AUDIENCES)
    except ValueError as err:
        st.error(str(err))
        st.stop()
    versions = reader.list_versions(root)
    choice, audience, known_on = _sidebar(root, versions, audiences)
    version_dir = reader.pick_version(root, choice)  # `current` resolved once, here
    if version_dir is None:
        st.warning(
            f"No published dataset under {reader.published_dir(root)}. "
            "Run `peaceops run` (or `make demo`) first."
        )
        st.stop()
    db = reader.audience_db(version_dir, audience)
    if not db.is_file():
        st.error(f"Version {version_dir.name} has no {audience} dataset.")
        st.stop()
    manifest = reader.read_manifest(version_dir)

    # A published database never changes once its version is published; its file's
    # stamp in the cache key is a safeguard, not the mechanism.
    stamp = (db.stat().st_mtime_ns, db.stat().st_size)
    f = _filters(_options(str(db), stamp))
    moment = None
    if known_on is not None:
        moment = datetime.combine(known_on + timedelta(days=1), time(), tzinfo=UTC)
    v = _views(str(db), stamp, f)
    numbers, points, daily, gaps, dup = (
        v[k] for k in ("numbers", "points", "daily", "gaps", "dup")
    )

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
    _map(str(root), str(db), stamp, f, shades, located=not points.empty)
    _series_chart(daily)

    # Only the open tab is drawn (and its view queried): a rerun when another opens.
    names = ["Coverage gaps", "Duplication", "Deconfliction", "Timeliness"]
    if moment is not None:
        names.insert(0, f"As known on {known_on}")
    tabs = dict(zip(names, st.tabs(names, key="tabs", on_change="rerun"), strict=True))
    for name, tab in tabs.items():
        if not tab.open:
            continue
        with tab:
            if name == "Coverage gaps":
                _coverage(gaps)
            elif name == "Duplication":
                _duplication(dup)
            elif name == "Deconfliction":
                alerts = _tab_view(str(db), stamp, "alerts", f, None)
                _deconfliction(alerts, numbers["deconfliction_alerts"])
            elif name == "Timeliness":
                _timeliness(_tab_view(str(db), stamp, "timeliness", f, None))
            else:
                assert known_on is not None, "the 'as known on' tab shows only with a day"
                _known_then(_tab_view(str(db), stamp, "known", f, moment), known_on)


_started = perf_counter()
try:
    main()
finally:
    # the server's share of a page's time, for the browser test and the bench
    if Settings.resolve().dashboard_timings:
        print(f"page run {perf_counter() - _started:.3f} s", file=sys.stderr, flush=True)
