"""The dashboard's page times in headless Chromium, against Streamlit's own floor.

Times, from the browser (the analyst's wait): the first page until its headline numbers
show and Streamlit's "running" indicator is gone, an audience switch and a filter
change until the same. The server's share comes from the page's own timing
(PEACEOPS_DASHBOARD_TIMINGS): the rest is the browser's.

The floor is a one-metric Streamlit page served and loaded the same way in the same
run: what Streamlit and Chromium cost before the dashboard does anything, so the
ratio says what the dashboard adds on this machine, loaded or not.

    python -m bench.dashboard [DATA_DIR]     # a published dataset; default: a demo run
"""

from __future__ import annotations

import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from bench.common import Row

if TYPE_CHECKING:
    from playwright.sync_api import Page

REPO = Path(__file__).resolve().parents[1]
APP = REPO / "src" / "ingest" / "serve" / "dashboard" / "app.py"
FLOOR_APP = 'import streamlit as st\nst.title("floor")\nst.metric("Incidents", "1")\n'
TIMEOUT_MS = 120_000
RUNS = 3
# the targets, at 1M events
TARGETS = {"first page": 2.0, "filter change": 1.0}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return resp.status == 200
    except OSError:
        return False


@contextmanager
def served(app: Path, data: Path, log: Path, feeds: Path | None = None) -> Iterator[str]:
    """Streamlit serving `app` over `data` on a free loopback port, as the dashboard
    command serves it; stopped on exit."""
    from ingest.commands.dashboard import streamlit_args

    port = _free_port()
    env = {
        **os.environ,
        "PEACEOPS_DATA_DIR": str(data),
        "PEACEOPS_FEEDS": str(feeds or os.environ.get("PEACEOPS_FEEDS", REPO / "feeds.yaml")),
        "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
        "PEACEOPS_DASHBOARD_TIMINGS": "1",
    }
    env.pop("PEACEOPS_DASHBOARD_AUDIENCES", None)
    args = [*streamlit_args(app, host="127.0.0.1", port=port), "--server.fileWatcherType", "none"]
    with open(log, "wb") as out:
        proc = subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=data)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while not _answers(f"{url}/_stcore/health"):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"streamlit did not start:\n{log.read_text()}")
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def server_runs(log: Path) -> list[float]:
    """Seconds of each page run so far, as the page printed them."""
    return [float(s) for s in re.findall(r"page run ([0-9.]+) s", log.read_text())]


def _idle(page: Page) -> None:
    from playwright.sync_api import expect

    expect(page.locator("[data-testid='stStatusWidget']")).to_have_count(0, timeout=TIMEOUT_MS)


def _first_page(page: Page, url: str) -> float:
    """From navigation until the metrics show and no script runs."""
    from playwright.sync_api import expect

    started = time.perf_counter()
    page.goto(url)
    expect(page.locator("[data-testid='stMetricValue']").first).to_be_visible(timeout=TIMEOUT_MS)
    _idle(page)
    _painted(page)
    return time.perf_counter() - started


def _painted(page: Page) -> None:
    """Until the browser has drawn two frames since (Vega renders asynchronously)."""
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")


def _choose(page: Page, key: str, option: str) -> float:
    """Seconds from picking `option` in the selectbox/multiselect `key` to the page
    settled again: the incident count changed, no script runs, frames drawn (opening the
    list is not counted). Streamlit shows its "running" indicator only after a delay, so
    the changed number is what says the rerun has happened."""
    from playwright.sync_api import expect

    page.locator(f".st-key-{key} [role='combobox']").click()
    target = page.get_by_role("option", name=option, exact=True)
    target.wait_for(timeout=TIMEOUT_MS)
    incidents = page.locator(".st-key-metric-incidents [data-testid='stMetricValue']")
    before = incidents.inner_text()
    started = time.perf_counter()
    target.click()
    expect(incidents).not_to_have_text(before, timeout=TIMEOUT_MS)
    _idle(page)
    _painted(page)
    seconds = time.perf_counter() - started
    page.keyboard.press("Escape")
    return seconds


def busiest_region(data: Path) -> str:
    """The admin1 filter's option for the region with the most incidents (mission)."""
    from bench.common import plain_duckdb

    con = plain_duckdb(
        data / "published" / "current" / "mission" / "unified.duckdb", read_only=True
    )
    try:
        pcode, name = con.execute(
            "SELECT i.admin1_pcode, any_value(l.admin1_name) FROM fct_incidents i "
            "JOIN dim_locations l USING (admin1_pcode) GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"
        ).fetchone()
    finally:
        con.close()
    return f"{name} ({pcode})"


def page_times(url: str, *, busiest: str | None = None) -> dict[str, list[float]]:
    """Each of RUNS fresh pages (each a new browser context: no browser cache; the first
    one also meets a server that has cached nothing)."""
    from playwright.sync_api import sync_playwright

    from tests.browser import launch_options

    times: dict[str, list[float]] = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(**launch_options())
        try:
            for _ in range(RUNS):
                context = browser.new_context(viewport={"width": 1600, "height": 1300})
                page = context.new_page()
                page.set_default_timeout(TIMEOUT_MS)
                times.setdefault("first page", []).append(_first_page(page, url))
                if busiest is not None:
                    times.setdefault("audience switch", []).append(
                        _choose(page, "audience", "mission")
                    )
                    times.setdefault("filter change", []).append(_choose(page, "admin1", busiest))
                context.close()
        finally:
            browser.close()
    return times


def measure(data: Path, label: str, app: Path = APP, feeds: Path | None = None) -> list[Row]:
    """Rows for the first page, the audience switch and the filter change on the
    published dataset under `data` (the feed registry `feeds` names its country pack)."""
    with tempfile.TemporaryDirectory(prefix="peaceops-bench-dash-") as tmp:
        work = Path(tmp)
        floor_app = work / "floor.py"
        floor_app.write_text(FLOOR_APP)
        with served(floor_app, data, work / "floor.log", feeds) as url:
            floor = statistics.median(page_times(url)["first page"])
        log = work / "dashboard.log"
        with served(app, data, log, feeds) as url:
            times = page_times(url, busiest=busiest_region(data))
            runs = server_runs(log)
    return [
        Row(
            "dashboard",
            f"{what}, {label} (median of {RUNS})",
            statistics.median(seconds),
            floor,
            {
                "runs_s": "/".join(f"{s:.2f}" for s in seconds),
                "floor": "one-metric Streamlit page, first load",
                **({"target_s": TARGETS[what]} if what in TARGETS else {}),
                **({"server_runs_s": "/".join(f"{s:.2f}" for s in runs)} if runs else {}),
            },
        )
        for what, seconds in times.items()
    ]


def run_demo_data() -> Path:
    from ingest.lab.demo import DEMO_CREDENTIALS, run_demo

    root = Path(tempfile.mkdtemp(prefix="peaceops-bench-dash-data-"))
    os.environ["PEACEOPS_DATA_DIR"] = str(root)
    os.environ.setdefault("PEACEOPS_FEEDS", str(REPO / "feeds.yaml"))
    if not run_demo(root, days=14, seed=7, credentials=DEMO_CREDENTIALS):
        raise RuntimeError("the demo run failed")
    return root


def main() -> None:
    from bench.common import print_table

    data = Path(sys.argv[1]) if len(sys.argv) > 1 else run_demo_data()
    print_table(measure(data, data.name))


if __name__ == "__main__":
    main()
