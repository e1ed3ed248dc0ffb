"""The dashboard's page script run by Streamlit's own test runner (no browser) on the
shared demo: the map's per-capita shading, with a country pack that has a population and
with one that has none."""

from __future__ import annotations

import csv
import json
import shutil
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
APP = REPO / "src" / "ingest" / "serve" / "dashboard" / "app.py"
# test data, not a census: every Carana district the same, so a count per 100,000
# people is the count halved
PEOPLE = 200_000


@pytest.fixture
def app(demo_data: Path, monkeypatch):
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("PEACEOPS_DATA_DIR", str(demo_data))
    monkeypatch.setenv("PEACEOPS_FEEDS", str(REPO / "feeds.yaml"))
    monkeypatch.delenv("PEACEOPS_DASHBOARD_AUDIENCES", raising=False)
    st.cache_data.clear()  # the pack is read once per process: another pack per test
    # Streamlit's script runner installs the page as sys.modules["__main__"] and leaves it
    # there: a later test's spawned process would then run the page as its main module.
    main = sys.modules["__main__"]
    yield lambda: AppTest.from_file(str(APP), default_timeout=180)
    sys.modules["__main__"] = main
    st.cache_data.clear()


def _pack_with_people(folder: Path) -> Path:
    shutil.copytree(REPO / "packs" / "carana", folder)
    path = folder / "admin2.csv"
    with open(path, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, [*rows[0], "population"], lineterminator="\n")
        writer.writeheader()
        writer.writerows({**r, "population": str(PEOPLE)} for r in rows)
    return folder


def _map_spec(at) -> dict:
    charts = [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]
    return next(c for c in charts if c.get("projection"))


def _map_caption(at) -> str:
    return next(c.value for c in at.caption if "No base map" in c.value)


def test_per_capita_shading_where_the_pack_has_people(app, tmp_path, monkeypatch):
    monkeypatch.setenv("PEACEOPS_COUNTRY_PACK", str(_pack_with_people(tmp_path / "pack")))
    at = app()
    at.run()
    assert not at.exception
    assert not at.toggle(key="per-capita").disabled
    at.selectbox(key="audience").set_value("mission")  # coverage gaps are mission's
    at.radio(key="shade").set_value("coverage gaps")
    at.run()
    counts = _map_spec(at)
    at.toggle(key="per-capita").set_value(True)
    at.run()
    assert "Districts shaded by coverage gaps per 100,000 people" in _map_caption(at)
    per = _map_spec(at)
    values = {}
    for spec in (counts, per):
        (shaded,) = [layer for layer in spec["layer"] if "color" in layer.get("encoding", {})
                     and layer["mark"]["type"] == "geoshape"]  # fmt: skip
        values[id(spec)] = {
            f["properties"]["pcode"]: f["properties"]["value"] for f in shaded["data"]["values"]
        }
    before, after = values[id(counts)], values[id(per)]
    assert max(before.values()) > 0
    assert after == {p: v * 100_000 / PEOPLE for p, v in before.items()}


def test_without_population_the_page_says_so(app, monkeypatch):
    monkeypatch.delenv("PEACEOPS_COUNTRY_PACK", raising=False)  # Carana: no population
    at = app()
    at.run()
    assert not at.exception
    assert at.toggle(key="per-capita").disabled
    assert "this pack has none" in _map_caption(at)
    # counts are still shaded
    at.radio(key="shade").set_value("duplication")
    at.run()
    assert "Districts shaded by duplication: white 0" in _map_caption(at)


def test_no_filter_offers_select_all(app):
    # An empty filter means all; a "Select all" row would pin every option, and a click
    # meant for one option landed on it once (the browser test picked all seven agencies).
    at = app()
    at.run()
    assert not at.exception
    keys = {m.key: m.proto.select_all for m in at.multiselect}
    assert keys == {"admin1": 0, "admin2": 0, "agencies": 0, "sectors": 0}
